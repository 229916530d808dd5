package io.sluice.offsets;

import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedZooKeeperExtension.class)
class ZooKeeperOffsetStoreContractTest extends OffsetStoreContractTest {

  static String connectString;

  @BeforeAll
  static void zookeeper(EmbeddedZooKeeper zk) {
    connectString = zk.connectString();
  }

  @Override
  protected OffsetStore newStore() {
    return OffsetStores.zookeeper(connectString);
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.zookeeperBuilder().connectString(connectString).commitHook(c -> {
      throw new IllegalStateException("injected failing operation inside the multi");
    }).build();
  }
}

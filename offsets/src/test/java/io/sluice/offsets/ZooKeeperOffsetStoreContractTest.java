package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
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
  protected OffsetStore newStoreKeeping(int batches) {
    return OffsetStores.zookeeperBuilder()
        .connectString(connectString)
        .historyRetention(batches)
        .build();
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.zookeeperBuilder()
        .connectString(connectString)
        .commitHook(
            c -> {
              throw new IllegalStateException("injected failing operation inside the multi");
            })
        .build();
  }

  @Test
  void offsetChangedBetweenTheCheckAndTheMultiFencesTheCommit() throws Exception {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    String offsetNode = "/consumers/" + group + "/offsets/" + ORDERS + "/0";
    AtomicInteger attempts = new AtomicInteger();
    try (CuratorFramework tool =
        CuratorFrameworkFactory.newClient(connectString, new RetryOneTime(100))) {
      tool.start();
      // Runs after the store read and checked the offset, before its multi: another writer of the
      // 0.8-era path moves only the offset znode, not the store's last-batch znode.
      OffsetStore driver =
          OffsetStores.zookeeperBuilder()
              .connectString(connectString)
              .commitHook(
                  c -> {
                    if (attempts.getAndIncrement() == 0) {
                      tool.setData().forPath(offsetNode, "3".getBytes(StandardCharsets.UTF_8));
                    }
                  })
              .build();
      try (driver) {
        assertThatThrownBy(() -> driver.commit(batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20))))
            .isInstanceOfSatisfying(
                OffsetFencedException.class,
                e -> {
                  assertThat(e.fromOffset()).isEqualTo(10);
                  assertThat(e.storedOffset()).isEqualTo(3);
                });
      }
    }
    assertThat(attempts).hasValue(1);
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 3L));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(0));
    assertThat(store.batch(group, 1)).isEmpty();
  }

  @Test
  void resetBetweenTheCheckAndTheMultiFencesTheCommit() {
    store.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    AtomicInteger attempts = new AtomicInteger();
    try (OffsetStore operator = newStore();
        OffsetStore driver =
            OffsetStores.zookeeperBuilder()
                .connectString(connectString)
                .commitHook(
                    c -> {
                      if (attempts.getAndIncrement() == 0) {
                        operator.reset(group, Map.of(tp(ORDERS, 0), 3L));
                      }
                    })
                .build()) {
      assertThatThrownBy(() -> driver.commit(batch(group, 2, new OffsetRange(ORDERS, 0, 10, 20))))
          .isInstanceOfSatisfying(
              OffsetFencedException.class, e -> assertThat(e.storedOffset()).isEqualTo(3));
    }
    assertThat(store.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 3L));
    assertThat(store.lastBatchId(group)).isEqualTo(OptionalLong.of(1));
  }
}

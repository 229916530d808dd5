package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedZooKeeperExtension.class)
class EmbeddedZooKeeperTest {

  private static ZooKeeper connect(String connectString) throws Exception {
    ZooKeeper client = new ZooKeeper(connectString, 10_000, event -> {});
    await().atMost(Duration.ofSeconds(10)).until(() -> client.getState().isConnected());
    return client;
  }

  @Test
  void znodeIsWrittenAndReadBack(EmbeddedZooKeeper zk) throws Exception {
    assertThat(zk.connectString()).startsWith("127.0.0.1:");
    ZooKeeper client = connect(zk.connectString());
    try {
      client.create(
          "/sluice-test",
          "hello".getBytes(StandardCharsets.UTF_8),
          ZooDefs.Ids.OPEN_ACL_UNSAFE,
          CreateMode.PERSISTENT);
      assertThat(new String(client.getData("/sluice-test", false, null), StandardCharsets.UTF_8))
          .isEqualTo("hello");
    } finally {
      client.close();
    }
  }

  @Test
  void sharedInstanceIsTheSameForEveryParameter(EmbeddedZooKeeper first, EmbeddedZooKeeper second) {
    assertThat(first).isSameAs(second);
  }

  @Test
  void closeStopsTheServerAndDeletesItsDirectory() throws Exception {
    ThreadSnapshot threads = ThreadSnapshot.take();
    EmbeddedZooKeeper zk = EmbeddedZooKeeper.startNew();
    Path dir = zk.directory();
    ZooKeeper client = connect(zk.connectString());
    client.create("/lifecycle", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    client.close();

    zk.close();
    zk.close();

    assertThat(Files.exists(dir)).isFalse();
    threads.awaitNoNewNonDaemonThreads();
  }
}

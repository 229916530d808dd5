package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OffsetStoresBuilderTest {

  @Test
  void kafkaNeedsBootstrapServers() {
    assertThatThrownBy(() -> OffsetStores.kafka(Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "bootstrapServers must be set (or bootstrap.servers in clientConfig), was null");
    assertThatThrownBy(
            () ->
                OffsetStores.kafkaBuilder()
                    .bootstrapServers("h:1")
                    .timeout(Duration.ofSeconds(-5))
                    .build())
        .hasMessage("timeout must be > 0, was PT-5S");
    assertThatThrownBy(
            () -> OffsetStores.kafka(Map.of("bootstrap.servers", "h:1", "group.id", "x")))
        .hasMessage("clientConfig must not set group.id: the store manages it, was x");
  }

  @Test
  void zookeeperNeedsAConnectStringAndAnAbsoluteRoot() {
    assertThatThrownBy(() -> OffsetStores.zookeeper(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectString must be set (or a client), was  ");
    assertThatThrownBy(
            () -> OffsetStores.zookeeperBuilder().connectString("h:1").root("sluice").build())
        .hasMessage("root must be an absolute znode path like /sluice, was 'sluice'");
    assertThatThrownBy(
            () -> OffsetStores.zookeeperBuilder().connectString("h:1").historyRetention(0).build())
        .hasMessage("historyRetention must be > 0, was 0");
  }

  @Test
  void historyRetentionIsACountOfBatchesAbove0OnEveryBuilder() {
    assertThatThrownBy(
            () -> OffsetStores.kafkaBuilder().bootstrapServers("h:1").historyRetention(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("historyRetention must be > 0, was 0");
    assertThatThrownBy(
            () -> OffsetStores.fileBuilder().dir(Path.of("unused")).historyRetention(-3).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("historyRetention must be > 0, was -3");
    assertThatThrownBy(
            () ->
                OffsetStores.jdbcBuilder()
                    .dataSource(new org.h2.jdbcx.JdbcDataSource())
                    .historyRetention(0)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("historyRetention must be > 0, was 0");
  }

  @Test
  void zookeeperThatCannotBeReachedFailsAtBuild() {
    assertThatThrownBy(
            () ->
                OffsetStores.zookeeperBuilder()
                    .connectString("127.0.0.1:1")
                    .connectionTimeout(Duration.ofMillis(300))
                    .build())
        .isInstanceOf(OffsetStoreException.class)
        .hasMessage("cannot connect to ZooKeeper at 127.0.0.1:1 within 300 ms");
  }

  @Test
  void fileAndJdbcNeedTheirTarget() {
    assertThatThrownBy(() -> OffsetStores.file(null)).hasMessage("dir must be set, was null");
    assertThatThrownBy(() -> OffsetStores.jdbc(null))
        .hasMessage("dataSource must be set, was null");
    assertThatThrownBy(
            () ->
                OffsetStores.jdbcBuilder()
                    .dataSource(new org.h2.jdbcx.JdbcDataSource())
                    .tablePrefix("x; DROP TABLE y")
                    .build())
        .hasMessage("tablePrefix must be empty or a plain SQL identifier, was 'x; DROP TABLE y'");
  }
}

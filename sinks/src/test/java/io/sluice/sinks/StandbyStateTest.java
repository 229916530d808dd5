package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.KV;
import io.sluice.engine.StreamingContext;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.LeaderElections;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import io.sluice.testkit.EmbeddedZooKeeper;
import io.sluice.testkit.EmbeddedZooKeeperExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standby takes over a stateful single-driver application with a checkpoint directory of its own:
 * the state comes from the changelog its exactly-once JdbcSink keeps in the batch's transaction
 * ({@code sluice_state}), not from the leader's checkpoint, so every key's running count continues
 * exactly where the leader committed it.
 */
@ExtendWith({
  EmbeddedKafkaExtension.class,
  EmbeddedPostgresExtension.class,
  EmbeddedZooKeeperExtension.class
})
class StandbyStateTest {

  private static StreamingContext candidate(
      EmbeddedKafka kafka,
      EmbeddedZooKeeper zk,
      String app,
      String in,
      Path checkpoint,
      DataSource ds,
      String table,
      JdbcOffsetStore store) {
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofMillis(200))
            .parallelism(2)
            .checkpointDir(checkpoint)
            .exactlyOnce(true)
            .leaderElection(LeaderElections.zookeeper(zk.connectString(), "/sluice/" + app))
            .build();
    Map<String, Object> params = new HashMap<>();
    params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    params.put(ConsumerConfig.GROUP_ID_CONFIG, app);
    params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    KafkaDirect.createDirectStream(
            ctx,
            ConsumerStrategies.<String, String>subscribe(List.of(in), params),
            DirectStreamOptions.builder().offsetStore(store).build())
        .mapToPair(r -> KV.of(r.key(), 1L))
        .mapWithState(RunningCounts.spec())
        .writeTo(RunningCounts.sink(ds, table, store));
    ctx.start();
    return ctx;
  }

  @Test
  void aStandbyContinuesEveryKeysCountFromTheChangelog(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, EmbeddedZooKeeper zk, @TempDir Path dir)
      throws Exception {
    String app = "standby-state-" + System.nanoTime();
    String in = "in-" + app;
    String table = "standby_counts_" + System.nanoTime() % 1_000_000;
    kafka.createTopic(in, 3);
    DataSource ds = db.dataSource();
    RunningCounts.createTable(ds, table);
    int produced = produce(kafka, in, 0, 300);
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      StreamingContext leader = candidate(kafka, zk, app, in, dir.resolve("a"), ds, table, store);
      await().atMost(Duration.ofSeconds(60)).until(() -> RunningCounts.rowCount(ds, table) == 300);
      StreamingContext standby = candidate(kafka, zk, app, in, dir.resolve("b"), ds, table, store);
      try {
        assertThat(standby.isLeader()).isFalse();
        leader.stop(true); // commits its last batch, then gives the leadership up
        leader.awaitTermination();
        await().atMost(Duration.ofSeconds(60)).until(standby::isLeader);
        produced += produce(kafka, in, produced, 300);
        int expected = produced;
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> RunningCounts.rowCount(ds, table) >= expected);
      } finally {
        leader.stop(false);
        standby.stop(true);
      }
      Map<String, Long> perKey = new TreeMap<>();
      for (int i = 0; i < produced; i++) {
        perKey.merge(key(i), 1L, Long::sum);
      }
      RunningCounts.assertExact(RunningCounts.read(ds, table), perKey);
    }
  }

  private static String key(int i) {
    return "k" + i % 15;
  }

  private static int produce(EmbeddedKafka kafka, String topic, int from, int n) {
    List<ProducerRecord<String, String>> records = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      records.add(new ProducerRecord<>(topic, key(i), "v" + i));
    }
    kafka.produce(records);
    return n;
  }
}

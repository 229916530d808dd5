package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.KV;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.KafkaCommitMetadata;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Kafka direct stream into the transactional sinks: offsets committed in the sink's
 * transaction.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class DirectStreamSinksTest {

  @Test
  void directStreamIntoKafkaSinkCommitsOutputAndGroupOffsetsTogether(EmbeddedKafka kafka)
      throws Exception {
    String app = "k2k-" + System.nanoTime();
    String in = "in-" + app;
    String out = "out-" + app;
    String group = "group-" + app;
    kafka.createTopic(in, 2);
    kafka.createTopic(out, 2);
    List<ProducerRecord<String, String>> input = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      input.add(new ProducerRecord<>(in, i % 2, "k" + i, "v" + i));
    }
    kafka.produce(input);

    Map<String, Object> params = new HashMap<>();
    params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    params.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofMillis(500))
            .parallelism(2)
            .clock(clock)
            .build();
    AtomicInteger completed = new AtomicInteger();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.incrementAndGet();
          }
        });
    try (OffsetStore store =
        OffsetStores.kafka(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(List.of(in), params),
              DirectStreamOptions.builder()
                  .startingOffsets(StartingOffsets.committed(store, StartingOffsets.earliest()))
                  .offsetStore(store)
                  .build())
          .map(r -> r.value().toUpperCase())
          .writeTo(
              KafkaSink.<String>builder()
                  .producerConfig(
                      Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))
                  .keySerializer(new StringSerializer())
                  .valueSerializer(new StringSerializer())
                  .record(v -> new ProducerRecord<>(out, v, v))
                  .exactlyOnce()
                  .build());
      ctx.start();
      clock.advance(Duration.ofMillis(500));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> completed.get() >= 1 || ctx.state() == StreamingContext.State.STOPPED);
      ctx.stop(true);
      ctx.awaitTermination();

      await().atMost(Duration.ofSeconds(20)).until(() -> kafka.consumeAll(out, true).size() >= 100);
      List<String> values =
          kafka.consumeAll(out, true).stream().map(ConsumerRecord::value).sorted().toList();
      assertThat(values).hasSize(100).doesNotHaveDuplicates().contains("V0", "V99");
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(kafka.committedOffsets(group).values())
                      .hasSize(2)
                      .allSatisfy(
                          om -> {
                            assertThat(om.offset()).isEqualTo(50);
                            assertThat(KafkaCommitMetadata.batchId(om.metadata())).hasValue(0);
                          }));
      assertThat(store.lastBatchId(group)).hasValue(0);
    }
  }

  @Test
  void directStreamWithShuffleIntoJdbcSinkCommitsTotalsAndOffsetsTogether(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db) throws Exception {
    String app = "k2pg-" + System.nanoTime();
    String in = "in-" + app;
    String group = "group-" + app;
    String table = "revenue_" + System.nanoTime() % 1_000_000;
    kafka.createTopic(in, 2);
    List<ProducerRecord<String, String>> input = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      input.add(new ProducerRecord<>(in, i % 2, "p" + (i % 5), Integer.toString(i)));
    }
    kafka.produce(input);
    DataSource ds = db.dataSource();
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE " + table + " (product VARCHAR(20) PRIMARY KEY, cents BIGINT NOT NULL)");
    }

    Map<String, Object> params = new HashMap<>();
    params.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    params.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    params.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName(app)
            .batchInterval(Duration.ofMillis(500))
            .parallelism(2)
            .clock(clock)
            .build();
    AtomicInteger completed = new AtomicInteger();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.incrementAndGet();
          }
        });
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      KafkaDirect.createDirectStream(
              ctx,
              ConsumerStrategies.<String, String>subscribe(List.of(in), params),
              DirectStreamOptions.builder()
                  .startingOffsets(StartingOffsets.committed(store, StartingOffsets.earliest()))
                  .offsetStore(store)
                  .build())
          .mapToPair(r -> KV.of(r.key(), Long.parseLong(r.value())))
          .reduceByKey(Long::sum)
          .writeTo(
              JdbcSink.<KV<String, Long>>builder()
                  .dataSource(ds)
                  .sql(
                      "INSERT INTO "
                          + table
                          + " (product, cents) VALUES (?, ?) ON CONFLICT (product)"
                          + " DO UPDATE SET cents = "
                          + table
                          + ".cents + EXCLUDED.cents")
                  .binder(
                      (st, kv) -> {
                        st.setString(1, kv.key());
                        st.setLong(2, kv.value());
                      })
                  .offsetStore(store)
                  .build());
      ctx.start();
      clock.advance(Duration.ofMillis(500));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> completed.get() >= 1 || ctx.state() == StreamingContext.State.STOPPED);
      ctx.stop(true);
      ctx.awaitTermination();

      Map<String, Long> totals = new java.util.TreeMap<>();
      try (Connection c = ds.getConnection();
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT product, cents FROM " + table)) {
        while (rs.next()) {
          totals.put(rs.getString(1), rs.getLong(2));
        }
      }
      // p0 holds 0, 5, ..., 115: 24 values summing to 1380; every product adds 24 * 1 more than the
      // last.
      assertThat(totals)
          .containsExactlyEntriesOf(
              new java.util.TreeMap<>(
                  Map.of("p0", 1380L, "p1", 1404L, "p2", 1428L, "p3", 1452L, "p4", 1476L)));
      assertThat(store.lastBatchId(group)).hasValue(0);
      assertThat(store.committed(group))
          .containsExactlyInAnyOrderEntriesOf(
              Map.of(new TopicPartition(in, 0), 60L, new TopicPartition(in, 1), 60L));
    }
  }
}

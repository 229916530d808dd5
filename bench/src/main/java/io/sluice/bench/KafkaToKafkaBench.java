package io.sluice.bench;

import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.KafkaGroupOffsets;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.OffsetStores;
import io.sluice.offsets.StartingOffsets;
import io.sluice.sinks.JdbcSink;
import io.sluice.sinks.KafkaSink;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Exactly-once pipelines out of Kafka, in one JVM on the same data: Sluice's direct stream into its
 * transactional {@link KafkaSink} against a hand-written consume → transform → transactional
 * produce loop that commits (with {@code sendOffsetsToTransaction}) about every {@code
 * --commit-interval-ms}; then Kafka → PostgreSQL through the {@link JdbcSink} with the offsets in
 * the same database transaction.
 *
 * <p>Both Kafka pipelines read the whole input topic per pass with a fresh consumer group,
 * transform each value ({@link #transform(String)}), write to a fresh output topic with the same
 * producer settings, and are checked afterwards (the group's committed offsets must equal the
 * input's end offsets; for PostgreSQL the row count). A pass is timed from its start (clients
 * created, {@code initTransactions}) to its last commit (Sluice: the end of its last batch);
 * closing the clients afterwards is printed but not timed. Sluice's batches hold {@code
 * --records-per-batch} records (through {@code maxRatePerPartition} and a manual clock advanced on
 * every batch completion), about what the hand-written loop commits per transaction. Figures are
 * records/s, the median of {@code --passes} rounds after {@code --warmup} rounds; a round runs both
 * Kafka pipelines once (interleaved, so load changes on the machine hit them alike).
 */
@Command(
    name = "KafkaToKafkaBench",
    mixinStandardHelpOptions = true,
    description =
        "Exactly-once Kafka->Kafka (Sluice vs a hand-written transactional loop) and Kafka->PostgreSQL.")
public final class KafkaToKafkaBench implements Callable<Integer> {

  /** The pipelines this bench can measure. */
  enum Pipeline {
    HAND,
    SLUICE,
    JDBC,
    JDBC_COPY
  }

  private static final String IN = "bench-eos-in";
  private static final Duration INTERVAL = Duration.ofSeconds(1);

  @Option(
      names = "--records",
      description = "Records in the input topic, default ${DEFAULT-VALUE}.")
  long records = 5_000_000;

  @Option(
      names = "--value-bytes",
      description = "Bytes per String value (>= 16), default ${DEFAULT-VALUE}.")
  int valueBytes = 100;

  @Option(names = "--partitions", description = "Input topic partitions, default ${DEFAULT-VALUE}.")
  int partitions = 4;

  @Option(names = "--slots", description = "Sluice task slots, default ${DEFAULT-VALUE}.")
  int slots = 4;

  @Option(
      names = "--records-per-batch",
      description = "Sluice records per batch (one transaction)," + " default ${DEFAULT-VALUE}.")
  long recordsPerBatch = 100_000;

  @Option(
      names = "--commit-interval-ms",
      description =
          "Hand-written loop: commit a transaction every this"
              + " many ms, default ${DEFAULT-VALUE}.")
  long commitIntervalMs = 100;

  @Option(
      names = "--warmup",
      description = "Warm-up passes per Kafka pipeline, default ${DEFAULT-VALUE}.")
  int warmup = 3;

  @Option(
      names = "--passes",
      description = "Measured passes per pipeline, default ${DEFAULT-VALUE}.")
  int passes = 5;

  @Option(
      names = "--jdbc-records",
      description =
          "Records per Kafka->PostgreSQL pass (a prefix of the input),"
              + " default ${DEFAULT-VALUE}.")
  long jdbcRecords = 500_000;

  @Option(
      names = "--jdbc-warmup",
      description = "Warm-up passes of Kafka->PostgreSQL, default ${DEFAULT-VALUE}.")
  int jdbcWarmup = 2;

  @Option(
      names = "--jdbc-batch-size",
      description = "Rows per JDBC executeBatch, default ${DEFAULT-VALUE}.")
  int jdbcBatchSize = JdbcSink.DEFAULT_BATCH_SIZE;

  @Option(
      names = "--jdbc-url-params",
      description =
          "Query parameters appended to the PostgreSQL JDBC URL," + " default ${DEFAULT-VALUE}.")
  String jdbcUrlParams = "reWriteBatchedInserts=true";

  @Option(
      names = "--verify-output",
      description =
          "Also count each pass's output topic with a read_committed"
              + " consumer (slow for large runs; the smoke test uses it).")
  boolean verifyOutput;

  @Option(
      names = "--pipelines",
      split = ",",
      converter = PipelineConverter.class,
      description = "Pipelines to measure, from ${COMPLETION-CANDIDATES} (default: all).")
  Set<Pipeline> pipelines = EnumSet.allOf(Pipeline.class);

  private final PrintStream out;
  private final AtomicInteger passCounter = new AtomicInteger();
  private EmbeddedKafka kafka;
  private Map<TopicPartition, Long> ends;

  /** A bench printing to standard output. */
  public KafkaToKafkaBench() {
    this(System.out);
  }

  KafkaToKafkaBench(PrintStream out) {
    this.out = out;
  }

  /** Runs the bench; {@code --help} lists the options. Exits with 0 on success. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new KafkaToKafkaBench()).execute(args));
  }

  /**
   * The per-record work of every pipeline: upper-casing the value (Latin-1, no allocation beyond
   * the result).
   */
  static String transform(String value) {
    return value.toUpperCase(Locale.ROOT);
  }

  @Override
  public Integer call() throws Exception {
    if (records < partitions
        || partitions <= 0
        || slots <= 0
        || recordsPerBatch <= 0
        || commitIntervalMs <= 0
        || passes <= 0
        || warmup < 0
        || jdbcWarmup < 0
        || jdbcRecords < partitions
        || valueBytes < 16
        || jdbcBatchSize <= 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "sizes must be > 0, records and"
              + " jdbc-records >= partitions, warmups >= 0, value-bytes >= 16");
    }
    out.printf(
        Locale.ROOT,
        "KafkaToKafkaBench: %,d records of %d bytes, %d partitions, %d slots, %,d records"
            + " per Sluice batch, hand-written commit every %d ms, %d warm-up + %d measured passes,"
            + " %s, %d cpus, max heap %d MiB%n",
        records,
        valueBytes,
        partitions,
        slots,
        recordsPerBatch,
        commitIntervalMs,
        warmup,
        passes,
        Runtime.version(),
        Runtime.getRuntime().availableProcessors(),
        Runtime.getRuntime().maxMemory() >> 20);
    out.println("load average (1, 5, 15 min) at start: " + Passes.loadAverage());
    try (EmbeddedKafka k = EmbeddedKafka.startNew()) {
      kafka = k;
      kafka.createTopic(IN, partitions);
      long t0 = System.nanoTime();
      BenchData.produce(kafka, IN, partitions, records, valueBytes);
      out.printf(Locale.ROOT, "produced %,d records in %.1f s%n", records, Passes.secondsSince(t0));
      ends = kafka.endOffsets(IN);

      String handName = "hand-written transactional loop";
      String sluiceName = "sluice direct stream -> KafkaSink (EOS)";
      Map<String, Passes.Pass> contenders = new LinkedHashMap<>();
      if (pipelines.contains(Pipeline.HAND)) {
        contenders.put(handName, this::handWrittenPass);
      }
      if (pipelines.contains(Pipeline.SLUICE)) {
        contenders.put(sluiceName, this::sluicePass);
      }
      Map<String, List<Double>> figures =
          Passes.interleaved(out, "records/s", warmup, passes, contenders);
      List<Double> hand = figures.getOrDefault(handName, List.of());
      List<Double> sluice = figures.getOrDefault(sluiceName, List.of());
      double jdbc = Double.NaN;
      double jdbcCopy = Double.NaN;
      if (pipelines.contains(Pipeline.JDBC) || pipelines.contains(Pipeline.JDBC_COPY)) {
        try (EmbeddedPostgresDatabase db = EmbeddedPostgresDatabase.startNew()) {
          if (pipelines.contains(Pipeline.JDBC)) {
            jdbc =
                Passes.median(
                    out,
                    "sluice direct stream -> JdbcSink (EOS, JDBC batches)",
                    "records/s",
                    jdbcWarmup,
                    passes,
                    () -> jdbcPass(db, false));
          }
          if (pipelines.contains(Pipeline.JDBC_COPY)) {
            jdbcCopy =
                Passes.median(
                    out,
                    "sluice direct stream -> JdbcSink (EOS, COPY via a staging table)",
                    "records/s",
                    jdbcWarmup,
                    passes,
                    () -> jdbcPass(db, true));
          }
        }
      }
      out.println();
      out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
      out.printf(
          Locale.ROOT,
          "Summary (warm records/s, median of %d): hand-written EOS loop %s | sluice"
              + " Kafka->Kafka EOS %s | sluice Kafka->PostgreSQL EOS %s (JDBC batches), %s (COPY)%n",
          passes,
          Passes.format(Passes.median(hand)),
          Passes.format(Passes.median(sluice)),
          Passes.format(jdbc),
          Passes.format(jdbcCopy));
      out.printf(
          Locale.ROOT,
          "sluice / hand-written = %.2f (target >= 0.80), median of per-round ratios %.2f%n",
          Passes.median(sluice) / Passes.median(hand),
          Passes.medianRatio(sluice, hand));
    }
    return 0;
  }

  // ---------------------------------------------------------------- shared settings

  /**
   * The producer settings both Kafka pipelines use (the transactional id is added per pipeline).
   */
  private Map<String, Object> producerConfig() {
    Map<String, Object> c = new HashMap<>();
    c.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    c.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    c.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    c.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    c.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    c.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
    return c;
  }

  private String newOutputTopic(String kind) {
    String topic = "bench-eos-out-" + kind + "-" + passCounter.incrementAndGet();
    kafka.createTopic(topic, partitions);
    return topic;
  }

  private void deleteTopic(String topic) throws Exception {
    try (Admin admin = kafka.admin()) {
      admin.deleteTopics(List.of(topic)).all().get();
    }
  }

  /** Fails unless {@code group} committed exactly the input's end offsets. */
  private void checkCommitted(String group, Map<TopicPartition, Long> expected) {
    // Offsets committed in a transaction read as pending until the commit markers land: wait for
    // them.
    Map<TopicPartition, Long> committed = new HashMap<>();
    try (Admin admin = kafka.admin()) {
      KafkaGroupOffsets.readStable(admin, group, Duration.ofSeconds(30))
          .forEach((tp, om) -> committed.put(tp, om.offset()));
    }
    if (!committed.equals(expected)) {
      throw new IllegalStateException(
          "group " + group + " committed " + committed + ", expected " + expected);
    }
  }

  /**
   * With {@code --verify-output}: fails unless the output topic holds exactly {@code records}
   * committed records.
   */
  private void checkOutput(String topic) {
    if (!verifyOutput) {
      return;
    }
    Map<String, Object> cc = BenchData.consumerConfig(kafka, "bench-verify");
    cc.remove(ConsumerConfig.GROUP_ID_CONFIG);
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    long count = 0;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cc)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int p = 0; p < partitions; p++) {
        tps.add(new TopicPartition(topic, p));
      }
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      // With read_committed, the end offsets are the last stable offsets: everything committed lies
      // below.
      Map<TopicPartition, Long> stable = consumer.endOffsets(tps);
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (tps.stream().anyMatch(tp -> consumer.position(tp) < stable.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(
              "reading " + topic + " did not reach " + stable + " in 2 minutes");
        }
        count += consumer.poll(Duration.ofMillis(200)).count();
      }
    }
    if (count != records) {
      throw new IllegalStateException(
          "output topic "
              + topic
              + " holds "
              + count
              + " committed records,"
              + " expected "
              + records);
    }
  }

  // ---------------------------------------------------------------- hand-written loop

  /**
   * One consumer over every partition and one transactional producer on one thread: poll,
   * transform, send; every {@code commitIntervalMs} add the consumer's positions with {@code
   * sendOffsetsToTransaction} and commit. Set-up ({@code initTransactions}) is timed too, as
   * Sluice's {@code start()} is.
   */
  private double handWrittenPass() throws Exception {
    String outTopic = newOutputTopic("hand");
    String group = "bench-eos-hand-" + passCounter.get();
    Map<String, Object> cc = BenchData.consumerConfig(kafka, group);
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, Object> pc = producerConfig();
    pc.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-eos-hand");
    long t0 = System.nanoTime();
    long sent = 0;
    double seconds;
    long closeStart;
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(cc);
        KafkaProducer<String, String> producer = new KafkaProducer<>(pc)) {
      producer.initTransactions();
      consumer.assign(ends.keySet());
      consumer.seekToBeginning(ends.keySet());
      ConsumerGroupMetadata groupMetadata = new ConsumerGroupMetadata(group);
      producer.beginTransaction();
      long lastCommit = System.nanoTime();
      while (true) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
          producer.send(new ProducerRecord<>(outTopic, transform(r.value())));
          sent++;
        }
        boolean done = true;
        Map<TopicPartition, OffsetAndMetadata> positions = new HashMap<>();
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
          long pos = consumer.position(e.getKey());
          positions.put(e.getKey(), new OffsetAndMetadata(pos));
          done &= pos >= e.getValue();
        }
        if (done || System.nanoTime() - lastCommit >= commitIntervalMs * 1_000_000) {
          producer.sendOffsetsToTransaction(positions, groupMetadata);
          producer.commitTransaction();
          if (done) {
            break;
          }
          producer.beginTransaction();
          lastCommit = System.nanoTime();
        }
      }
      // Like Sluice's figure, which ends with its last batch: the clients' close is not timed.
      seconds = Passes.secondsSince(t0);
      closeStart = System.nanoTime();
    }
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last commit, then close %.0f ms%n",
        seconds,
        (System.nanoTime() - closeStart) / 1e6);
    if (sent != records) {
      throw new IllegalStateException(
          "hand-written loop sent " + sent + " records, expected " + records);
    }
    checkCommitted(group, ends);
    checkOutput(outTopic);
    deleteTopic(outTopic);
    return sent / seconds;
  }

  // ---------------------------------------------------------------- sluice, Kafka -> Kafka

  private double sluicePass() throws Exception {
    String outTopic = newOutputTopic("sluice");
    String group = "bench-eos-sluice-" + passCounter.get();
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("bench-eos")
            .batchInterval(INTERVAL)
            .parallelism(slots)
            .clock(clock)
            .build();
    Map<String, Object> params = BenchData.consumerConfig(kafka, group);
    params.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    KafkaDirect.<String, String>createDirectStream(
            ctx, ConsumerStrategies.subscribe(List.of(IN), params), options(ends, null))
        .map(r -> transform(r.value()))
        .writeTo(
            KafkaSink.<String>builder()
                .producerConfig(producerConfig())
                .record(v -> new ProducerRecord<>(outTopic, v))
                .exactlyOnce()
                .build());
    long t0 = System.nanoTime();
    BenchData.BatchTimes times = BenchData.runUntilStopped(ctx, clock, INTERVAL);
    double seconds = times.secondsToLastBatch();
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last batch's end (stopped after %.2f s): %s%n",
        seconds,
        Passes.secondsSince(t0),
        times.describe());
    checkCommitted(group, ends);
    checkOutput(outTopic);
    deleteTopic(outTopic);
    return records / seconds;
  }

  /**
   * Replays exactly {@code [0, until)} of every partition in batches of about {@code
   * recordsPerBatch}, with {@code store} as the stream's offset store when not null.
   */
  private DirectStreamOptions options(Map<TopicPartition, Long> until, JdbcOffsetStore store) {
    List<OffsetRange> ranges = new ArrayList<>();
    until.forEach((tp, end) -> ranges.add(OffsetRange.of(tp, 0, end)));
    long perPartition = Math.max(1, recordsPerBatch / until.size());
    DirectStreamOptions.Builder b =
        DirectStreamOptions.builder()
            .startingOffsets(StartingOffsets.bounded(ranges))
            .maxRatePerPartition(perPartition * 1000 / INTERVAL.toMillis());
    if (store != null) {
      b.offsetStore(store);
    }
    return b.build();
  }

  // ---------------------------------------------------------------- sluice, Kafka -> PostgreSQL

  /** A row of the PostgreSQL table: where the record came from, and its transformed value. */
  record Row(int partition, long offset, String value) {}

  private double jdbcPass(EmbeddedPostgresDatabase db, boolean copy) throws Exception {
    String table = "bench_rows_" + passCounter.incrementAndGet();
    String group = "bench-jdbc-" + passCounter.get();
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE "
              + table
              + " (kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL,"
              + " val VARCHAR(200) NOT NULL, PRIMARY KEY (kafka_partition, kafka_offset))");
    }
    Map<TopicPartition, Long> until = new HashMap<>();
    long perPartition = jdbcRecords / partitions;
    long total = 0;
    for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
      long u = Math.min(e.getValue(), perPartition);
      until.put(e.getKey(), u);
      total += u;
    }
    JdbcOffsetStore store = OffsetStores.jdbc(db.dataSource());
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("bench-jdbc")
            .batchInterval(INTERVAL)
            .parallelism(slots)
            .clock(clock)
            .build();
    String url = db.jdbcUrl() + (jdbcUrlParams.isBlank() ? "" : "?" + jdbcUrlParams);
    KafkaDirect.<String, String>createDirectStream(
            ctx,
            ConsumerStrategies.subscribe(List.of(IN), BenchData.consumerConfig(kafka, group)),
            options(until, store))
        .map(r -> new Row(r.partition(), r.offset(), transform(r.value())))
        .writeTo(jdbcSink(table, url, db, store, copy));
    long t0 = System.nanoTime();
    BenchData.BatchTimes times = BenchData.runUntilStopped(ctx, clock, INTERVAL);
    double seconds = times.secondsToLastBatch();
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last batch's end (stopped after %.2f s): %s%n",
        seconds,
        Passes.secondsSince(t0),
        times.describe());
    long rows = countAndDrop(db, table);
    if (rows != total) {
      throw new IllegalStateException(
          "table " + table + " holds " + rows + " rows, expected " + total);
    }
    return total / seconds;
  }

  /**
   * The same rows through JDBC batches, or through COPY into a staging table and one INSERT ...
   * SELECT.
   */
  private JdbcSink<Row> jdbcSink(
      String table, String url, EmbeddedPostgresDatabase db, JdbcOffsetStore store, boolean copy) {
    JdbcSink.Builder<Row> b =
        JdbcSink.<Row>builder()
            .jdbcUrl(url)
            .user(db.user())
            .password(db.password())
            .batchSize(jdbcBatchSize)
            .offsetStore(store);
    if (copy) {
      return b.copyVia(
              "bench_stage",
              "kafka_partition int, kafka_offset bigint, val varchar(200)",
              row -> List.of(row.partition(), row.offset(), row.value()))
          .sql(
              "INSERT INTO "
                  + table
                  + " SELECT kafka_partition, kafka_offset, val FROM bench_stage")
          .build();
    }
    return b.sql("INSERT INTO " + table + " (kafka_partition, kafka_offset, val) VALUES (?, ?, ?)")
        .binder(
            (ps, row) -> {
              ps.setInt(1, row.partition());
              ps.setLong(2, row.offset());
              ps.setString(3, row.value());
            })
        .build();
  }

  private static long countAndDrop(EmbeddedPostgresDatabase db, String table) throws SQLException {
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      long n;
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
        rs.next();
        n = rs.getLong(1);
      }
      st.execute("DROP TABLE " + table);
      return n;
    }
  }

  /** Accepts pipeline names in any case. */
  static final class PipelineConverter implements CommandLine.ITypeConverter<Pipeline> {
    @Override
    public Pipeline convert(String value) {
      return Pipeline.valueOf(value.trim().toUpperCase(Locale.ROOT));
    }
  }
}

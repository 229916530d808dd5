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
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Exactly-once pipelines out of Kafka, in one JVM on the same data, each against a hand-written
 * loop of the same method at the same number of records per transaction ({@code --txn-records}):
 *
 * <ul>
 *   <li>Kafka → Kafka: Sluice's direct stream into its transactional {@link KafkaSink} against
 *       {@link HandKafkaLoop}, a consume → transform → transactional produce loop committing with
 *       {@code sendOffsetsToTransaction} every {@code --txn-records} records; and, to price
 *       Sluice's offset fence, the same loop reading the group's offsets before each commit as
 *       Sluice does.
 *   <li>Kafka → PostgreSQL: the {@link JdbcSink} with the offsets in the same database transaction,
 *       with JDBC batches and with {@code copyVia} (COPY into a staging table), against {@link
 *       HandJdbcLoop} doing the same with the same SQL.
 * </ul>
 *
 * <p>Every pipeline reads its input with a fresh consumer group, transforms each value ({@link
 * #transform(String)}), and is checked afterwards (Kafka: the group's committed offsets must equal
 * the input's end offsets; PostgreSQL: the row count). A pass is timed from its start (clients
 * created, {@code initTransactions}) to its last commit (Sluice: the end of its last batch);
 * closing the clients afterwards is printed but not timed. Sluice's batches hold {@code
 * --txn-records} records (through {@code maxRatePerPartition} and a manual clock advanced on every
 * batch completion, or set ahead with {@code --clock-ahead}). Figures are records/s, the median of
 * {@code --passes} rounds after {@code --warmup} rounds; a round runs each contender once
 * (interleaved, so load changes on the machine hit them alike). Each pass prints its transactions
 * and mean records per transaction.
 */
@Command(
    name = "KafkaToKafkaBench",
    mixinStandardHelpOptions = true,
    description =
        "Exactly-once Kafka->Kafka and Kafka->PostgreSQL: Sluice vs hand-written loops at equal"
            + " transaction sizes.")
public final class KafkaToKafkaBench implements Callable<Integer> {

  /** The pipelines this bench can measure. */
  enum Pipeline {
    HAND,
    HAND_FENCED,
    SLUICE,
    JDBC,
    HAND_JDBC,
    JDBC_COPY,
    HAND_COPY
  }

  private static final String IN = "bench-eos-in";
  private static final Duration INTERVAL = Duration.ofSeconds(1);
  private static final String HAND = "hand-written transactional loop";
  private static final String HAND_FENCED = "hand-written loop + Sluice's offset fence";
  private static final String SLUICE = "sluice direct stream -> KafkaSink (EOS)";
  private static final String JDBC = "sluice -> JdbcSink (EOS, JDBC batches)";
  private static final String HAND_JDBC = "hand-written loop, JDBC batches";
  private static final String JDBC_COPY = "sluice -> JdbcSink (EOS, COPY via a staging table)";
  private static final String HAND_COPY = "hand-written loop, COPY via a staging table";

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
      names = {"--txn-records", "--records-per-batch"},
      description =
          "Records per transaction on every side: Sluice's records per batch (one transaction"
              + " each), the hand-written loops' records per commit; default ${DEFAULT-VALUE}.")
  long txnRecords = 100_000;

  @Option(
      names = "--commit-interval-ms",
      description =
          "Hand-written Kafka loop: also commit once this many ms passed since the last commit"
              + " (0: by record count only), default ${DEFAULT-VALUE}.")
  long commitIntervalMs = 0;

  @Option(
      names = "--clock-ahead",
      description =
          "Sluice: queue every batch up front (the manual clock set ahead at once) instead of"
              + " advancing the clock from the listener when a batch completes.")
  boolean clockAhead;

  @Option(
      names = "--warmup",
      description = "Warm-up rounds of Kafka->Kafka, default ${DEFAULT-VALUE}.")
  int warmup = 3;

  @Option(
      names = "--passes",
      description = "Measured rounds of each part, default ${DEFAULT-VALUE}.")
  int passes = 5;

  @Option(
      names = "--jdbc-records",
      description =
          "Records per Kafka->PostgreSQL pass (a prefix of the input),"
              + " default ${DEFAULT-VALUE}.")
  long jdbcRecords = 500_000;

  @Option(
      names = "--jdbc-warmup",
      description = "Warm-up rounds of Kafka->PostgreSQL, default ${DEFAULT-VALUE}.")
  int jdbcWarmup = 2;

  @Option(
      names = "--jdbc-batch-size",
      description = "Rows per JDBC executeBatch or COPY chunk, default ${DEFAULT-VALUE}.")
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
  private final Map<String, Double> recordsPerTxn = new HashMap<>();
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
        || txnRecords <= 0
        || commitIntervalMs < 0
        || passes <= 0
        || warmup < 0
        || jdbcWarmup < 0
        || jdbcRecords < partitions
        || valueBytes < 16
        || jdbcBatchSize <= 0) {
      throw new CommandLine.ParameterException(
          new CommandLine(this),
          "sizes must be > 0, records and"
              + " jdbc-records >= partitions, warmups and commit-interval-ms >= 0,"
              + " value-bytes >= 16");
    }
    out.printf(
        Locale.ROOT,
        "KafkaToKafkaBench: %,d records of %d bytes, %d partitions, %d slots, %,d records"
            + " per transaction (hand-written Kafka loop also every %d ms), %d warm-up + %d"
            + " measured rounds, %s, %d cpus, max heap %d MiB%n",
        records,
        valueBytes,
        partitions,
        slots,
        txnRecords,
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

      Map<String, Passes.Pass> contenders = new LinkedHashMap<>();
      if (pipelines.contains(Pipeline.HAND)) {
        contenders.put(HAND, () -> handWrittenPass(false));
      }
      if (pipelines.contains(Pipeline.HAND_FENCED)) {
        contenders.put(HAND_FENCED, () -> handWrittenPass(true));
      }
      if (pipelines.contains(Pipeline.SLUICE)) {
        contenders.put(SLUICE, this::sluicePass);
      }
      Map<String, List<Double>> figures = new LinkedHashMap<>();
      if (!contenders.isEmpty()) {
        out.println("Kafka -> Kafka");
        figures.putAll(Passes.interleaved(out, "records/s", warmup, passes, contenders));
        out.println("load average (1, 5, 15 min) after Kafka -> Kafka: " + Passes.loadAverage());
      }
      Map<String, Passes.Pass> jdbcContenders = new LinkedHashMap<>();
      try (EmbeddedPostgresDatabase db = jdbcParts() ? EmbeddedPostgresDatabase.startNew() : null) {
        if (pipelines.contains(Pipeline.JDBC)) {
          jdbcContenders.put(JDBC, () -> jdbcPass(db, false));
        }
        if (pipelines.contains(Pipeline.HAND_JDBC)) {
          jdbcContenders.put(HAND_JDBC, () -> handJdbcPass(db, false));
        }
        if (pipelines.contains(Pipeline.JDBC_COPY)) {
          jdbcContenders.put(JDBC_COPY, () -> jdbcPass(db, true));
        }
        if (pipelines.contains(Pipeline.HAND_COPY)) {
          jdbcContenders.put(HAND_COPY, () -> handJdbcPass(db, true));
        }
        if (!jdbcContenders.isEmpty()) {
          out.println("Kafka -> PostgreSQL");
          figures.putAll(Passes.interleaved(out, "records/s", jdbcWarmup, passes, jdbcContenders));
        }
      }
      summary(figures);
    }
    return 0;
  }

  private boolean jdbcParts() {
    return pipelines.contains(Pipeline.JDBC)
        || pipelines.contains(Pipeline.HAND_JDBC)
        || pipelines.contains(Pipeline.JDBC_COPY)
        || pipelines.contains(Pipeline.HAND_COPY);
  }

  private void summary(Map<String, List<Double>> figures) {
    out.println();
    out.println("load average (1, 5, 15 min) at the end: " + Passes.loadAverage());
    out.printf(Locale.ROOT, "Summary (warm records/s, median of %d rounds):%n", passes);
    figures.forEach(
        (name, f) ->
            out.printf(
                Locale.ROOT,
                "  %-52s %12s records/s, %,9.0f records per transaction%n",
                name,
                Passes.format(Passes.median(f)),
                recordsPerTxn.getOrDefault(name, Double.NaN)));
    ratio(figures, SLUICE, HAND, "0.95");
    ratio(figures, SLUICE, HAND_FENCED, null);
    ratio(figures, HAND_FENCED, HAND, null);
    ratio(figures, JDBC, HAND_JDBC, "0.9");
    ratio(figures, JDBC_COPY, HAND_COPY, "0.9");
    ratio(figures, JDBC_COPY, JDBC, null);
  }

  private void ratio(Map<String, List<Double>> figures, String a, String b, String target) {
    if (!figures.containsKey(a) || !figures.containsKey(b)) {
      return;
    }
    List<Double> x = figures.get(a);
    List<Double> y = figures.get(b);
    List<String> rounds = new ArrayList<>();
    for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
      rounds.add(String.format(Locale.ROOT, "%.2f", x.get(i) / y.get(i)));
    }
    out.printf(
        Locale.ROOT,
        "%s / %s = %.2f%s; per-round ratios %s, median %.2f%n",
        a,
        b,
        Passes.median(x) / Passes.median(y),
        target == null ? "" : " (target >= " + target + ")",
        rounds,
        Passes.medianRatio(x, y));
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
   * {@link HandKafkaLoop} over the whole input into a fresh output topic; with {@code fenced}, it
   * reads the group's offsets before each commit as Sluice's transactional producer does.
   */
  private double handWrittenPass(boolean fenced) throws Exception {
    String outTopic = newOutputTopic(fenced ? "hand-fenced" : "hand");
    String group = "bench-eos-hand-" + passCounter.get();
    Map<String, Object> cc = BenchData.consumerConfig(kafka, group);
    cc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    Map<String, Object> pc = producerConfig();
    pc.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-eos-hand");
    HandKafkaLoop.Result r;
    try (Admin admin = fenced ? kafka.admin() : null) {
      r =
          HandKafkaLoop.run(
              new HandKafkaLoop.Settings(
                  cc, pc, ends, outTopic, group, txnRecords, commitIntervalMs, admin));
    }
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last commit, then close %.0f ms; %s%n",
        r.seconds(),
        r.closeMs(),
        r.describe());
    if (r.records() != records) {
      throw new IllegalStateException(
          "hand-written loop sent " + r.records() + " records, expected " + records);
    }
    recordsPerTxn.put(fenced ? HAND_FENCED : HAND, r.recordsPerTransaction());
    checkCommitted(group, ends);
    checkOutput(outTopic);
    deleteTopic(outTopic);
    return r.records() / r.seconds();
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
    BenchData.BatchTimes times =
        BenchData.runUntilStopped(ctx, clock, INTERVAL, clockAhead ? batchesAhead(records) : 0);
    double seconds = times.secondsToLastBatch();
    recordsPerTxn.put(SLUICE, (double) records / times.dataBatches());
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last batch's end (stopped after %.2f s), mean %,.0f records/txn: %s%n",
        seconds,
        Passes.secondsSince(t0),
        (double) records / times.dataBatches(),
        times.describe());
    checkCommitted(group, ends);
    checkOutput(outTopic);
    deleteTopic(outTopic);
    return records / seconds;
  }

  /** Batch intervals to set the clock ahead by so that every batch of {@code total} is queued. */
  private int batchesAhead(long total) {
    return (int) Math.min(100_000, total / perPartitionPerBatch(partitions) / partitions + 3);
  }

  private long perPartitionPerBatch(int partitionCount) {
    return Math.max(1, txnRecords / partitionCount);
  }

  /**
   * Replays exactly {@code [0, until)} of every partition in batches of {@code txnRecords} records
   * (split evenly over the partitions), with {@code store} as the stream's offset store when not
   * null.
   */
  private DirectStreamOptions options(Map<TopicPartition, Long> until, JdbcOffsetStore store) {
    List<OffsetRange> ranges = new ArrayList<>();
    until.forEach((tp, end) -> ranges.add(OffsetRange.of(tp, 0, end)));
    long perPartition = perPartitionPerBatch(until.size());
    DirectStreamOptions.Builder b =
        DirectStreamOptions.builder()
            .startingOffsets(StartingOffsets.bounded(ranges))
            .maxRatePerPartition(perPartition * 1000 / INTERVAL.toMillis());
    if (store != null) {
      b.offsetStore(store);
    }
    return b.build();
  }

  // ---------------------------------------------------------------- Kafka -> PostgreSQL

  /** A row of the PostgreSQL table: where the record came from, and its transformed value. */
  record Row(int partition, long offset, String value) {}

  private static final String STAGE_COLUMNS =
      "kafka_partition int, kafka_offset bigint, val varchar(200)";

  private static String insertSql(String table) {
    return "INSERT INTO " + table + " (kafka_partition, kafka_offset, val) VALUES (?, ?, ?)";
  }

  private static String applySql(String table, String stage) {
    return "INSERT INTO " + table + " SELECT kafka_partition, kafka_offset, val FROM " + stage;
  }

  private String newTable(EmbeddedPostgresDatabase db) throws SQLException {
    String table = "bench_rows_" + passCounter.incrementAndGet();
    try (Connection c = db.dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute(
          "CREATE TABLE "
              + table
              + " (kafka_partition INT NOT NULL, kafka_offset BIGINT NOT NULL,"
              + " val VARCHAR(200) NOT NULL, PRIMARY KEY (kafka_partition, kafka_offset))");
    }
    return table;
  }

  /** The prefix of every partition a Kafka -> PostgreSQL pass reads. */
  private Map<TopicPartition, Long> jdbcUntil() {
    Map<TopicPartition, Long> until = new HashMap<>();
    long perPartition = jdbcRecords / partitions;
    ends.forEach((tp, end) -> until.put(tp, Math.min(end, perPartition)));
    return until;
  }

  private String url(EmbeddedPostgresDatabase db) {
    return db.jdbcUrl() + (jdbcUrlParams.isBlank() ? "" : "?" + jdbcUrlParams);
  }

  private double jdbcPass(EmbeddedPostgresDatabase db, boolean copy) throws Exception {
    String table = newTable(db);
    String group = "bench-jdbc-" + passCounter.get();
    Map<TopicPartition, Long> until = jdbcUntil();
    long total = until.values().stream().mapToLong(Long::longValue).sum();
    JdbcOffsetStore store = OffsetStores.jdbc(db.dataSource());
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("bench-jdbc")
            .batchInterval(INTERVAL)
            .parallelism(slots)
            .clock(clock)
            .build();
    KafkaDirect.<String, String>createDirectStream(
            ctx,
            ConsumerStrategies.subscribe(List.of(IN), BenchData.consumerConfig(kafka, group)),
            options(until, store))
        .map(r -> new Row(r.partition(), r.offset(), transform(r.value())))
        .writeTo(jdbcSink(table, url(db), db, store, copy));
    long t0 = System.nanoTime();
    BenchData.BatchTimes times =
        BenchData.runUntilStopped(ctx, clock, INTERVAL, clockAhead ? batchesAhead(total) : 0);
    double seconds = times.secondsToLastBatch();
    recordsPerTxn.put(copy ? JDBC_COPY : JDBC, (double) total / times.dataBatches());
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last batch's end (stopped after %.2f s), mean %,.0f records/txn: %s%n",
        seconds,
        Passes.secondsSince(t0),
        (double) total / times.dataBatches(),
        times.describe());
    checkRows(db, table, total);
    return total / seconds;
  }

  /** {@link HandJdbcLoop} over the same prefix, with the same SQL, into a fresh table. */
  private double handJdbcPass(EmbeddedPostgresDatabase db, boolean copy) throws Exception {
    String table = newTable(db);
    String group = "bench-jdbc-hand-" + passCounter.get();
    Map<TopicPartition, Long> until = jdbcUntil();
    long total = until.values().stream().mapToLong(Long::longValue).sum();
    HandJdbcLoop.Result r =
        HandJdbcLoop.run(
            new HandJdbcLoop.Settings(
                BenchData.consumerConfig(kafka, group),
                until,
                url(db),
                db.user(),
                db.password(),
                insertSql(table),
                copy ? STAGE_COLUMNS : null,
                applySql(table, "bench_hand_stage"),
                group,
                txnRecords,
                jdbcBatchSize));
    recordsPerTxn.put(copy ? HAND_COPY : HAND_JDBC, r.rowsPerTransaction());
    out.printf(
        Locale.ROOT,
        "    %.2f s to the last commit; %d transactions, mean %,.0f records/txn%n",
        r.seconds(),
        r.transactions(),
        r.rowsPerTransaction());
    checkRows(db, table, total);
    return r.rows() / r.seconds();
  }

  private static void checkRows(EmbeddedPostgresDatabase db, String table, long expected)
      throws SQLException {
    long rows = countAndDrop(db, table);
    if (rows != expected) {
      throw new IllegalStateException(
          "table " + table + " holds " + rows + " rows, expected " + expected);
    }
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
              STAGE_COLUMNS,
              row -> List.of(row.partition(), row.offset(), row.value()))
          .sql(applySql(table, "bench_stage"))
          .build();
    }
    return b.sql(insertSql(table))
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

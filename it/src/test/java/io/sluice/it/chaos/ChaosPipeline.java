package io.sluice.it.chaos;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.Batch;
import io.sluice.engine.BatchInfo;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.LeaderElection;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.engine.TerminalException;
import io.sluice.engine.dstream.DStream;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.LeaderElections;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.sinks.JdbcSink;
import io.sluice.sinks.KafkaSink;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The pipeline the fault-injection suite runs in a separate JVM and kills: reads a topic of
 * numbered records with the Kafka direct stream and writes every record, exactly once, either to
 * PostgreSQL through the {@link JdbcSink} (offsets in a {@link JdbcOffsetStore} in the same
 * database) or to an output topic through the exactly-once {@link KafkaSink}, which commits the
 * offsets to the Kafka consumer group in its transaction; the stream's own offset store is chosen
 * by {@code --offsetStore=kafka|none} (none: the stream reads its position from the consumer
 * group). Either way the KafkaSink is the one committer of the input's offsets; a file store is not
 * offered, since {@code start()} refuses an input whose offset store is another place than the one
 * its transactional sink commits to.
 *
 * <p>Arguments are {@code --name=value}; see {@link Args}. {@code --stopFile=PATH} stops the
 * context gracefully once that file exists (every planned batch runs and commits first). Exit
 * codes: 0 when the context stopped by itself, 1 when {@code start()} or a batch failed, 2 on bad
 * arguments. Prints one line per batch event ({@code BATCH_STARTED <id>}, {@code BATCH_COMPLETED
 * <id>}, {@code BATCH_FAILED <id>}) so the test can tell where a kill landed.
 *
 * <p>{@code --leaderPath=/znode --zkConnect=host:port [--zkSessionTimeoutMs=4000]} runs the context
 * as one candidate of a ZooKeeper leader election (see {@link LeaderElections}): it prints {@code
 * LEADER_WAITING <pid>}, {@code LEADER_ELECTED <pid>} and {@code LEADER_LOST <pid>}, and a lost
 * leadership ends the JVM with 1.
 *
 * <p>Fault switches, each firing once across restarts thanks to a marker file created atomically
 * when it fires: {@code --failTaskBatch=K} fails one task attempt mid-partition in the first batch
 * with id >= K (the engine retries it); {@code --failSinkBatch=K --failSinkMode=during|after} makes
 * the output fail the first batch with id >= K, either while the sink's transaction is open (a task
 * of the sink's job fails terminally: the transaction is rolled back / aborted) or right after the
 * sink committed (the engine sees a failed batch although its output and offsets are committed; the
 * restart must not run it again).
 */
public final class ChaosPipeline {

  /** Printed when the context is started, so the test knows the JVM is up. */
  static final String STARTED = "CHAOS_PIPELINE_STARTED";

  /** Printed when the stop file appeared and the graceful stop begins. */
  static final String STOPPING = "CHAOS_PIPELINE_STOPPING";

  /** Printed when the context stopped by itself (a graceful stop), before the JVM exits with 0. */
  static final String STOPPED = "CHAOS_PIPELINE_STOPPED";

  private ChaosPipeline() {}

  /** Runs the pipeline until it fails or is killed. */
  public static void main(String[] argv) throws Exception {
    Args args;
    try {
      args = Args.parse(argv, List.of("jdbc", "kafka"));
    } catch (IllegalArgumentException e) {
      System.err.println("bad arguments: " + e.getMessage());
      System.exit(2);
      return;
    }
    int code = run(args);
    System.out.flush();
    // Non-daemon client threads (Kafka, Hikari) must not keep a failed pipeline alive.
    System.exit(code);
  }

  private static int run(Args a) throws Exception {
    PrintStream out = System.out;
    StreamingContext.Builder builder =
        StreamingContext.builder()
            .appName(a.appName)
            .batchInterval(Duration.ofMillis(a.batchIntervalMs))
            .parallelism(a.parallelism)
            .checkpointDir(Path.of(a.checkpointDir));
    if (a.leaderPath != null) {
      builder.leaderElection(
          new PrintingElection(
              LeaderElections.zookeeper(
                  a.zkConnect, a.leaderPath, Duration.ofMillis(a.zkSessionTimeoutMs)),
              out));
    }
    StreamingContext ctx = builder.build();
    ctx.addStreamingListener(new BatchPrinter(out));

    HikariDataSource pool = null;
    OffsetStore store;
    if (a.pipeline.equals("jdbc")) {
      pool = pool(a);
      store = OffsetStores.jdbc(pool);
    } else {
      store =
          switch (a.offsetStore) {
            case "kafka" -> OffsetStores.kafka(Map.of("bootstrap.servers", a.bootstrap));
            default -> null; // the stream commits to the Kafka consumer group itself
          };
    }

    Map<String, Object> params = new HashMap<>();
    params.put("bootstrap.servers", a.bootstrap);
    params.put("group.id", a.appName);
    params.put("key.deserializer", StringDeserializer.class);
    params.put("value.deserializer", StringDeserializer.class);
    params.put("isolation.level", "read_committed");
    DirectStreamOptions.Builder options =
        DirectStreamOptions.builder().name("numbers").maxRatePerPartition(a.maxRatePerPartition);
    if (store != null) {
      options.offsetStore(store);
    }
    DStream<ConsumerRecord<String, String>> input =
        KafkaDirect.createDirectStream(
            ctx, ConsumerStrategies.subscribe(List.of(a.inputTopic), params), options.build());

    DStream<Item> items =
        input.map(r -> new Item(Long.parseLong(r.value()), r.partition(), r.offset(), -1));
    BatchOutput<Item> sink =
        a.pipeline.equals("jdbc") ? jdbcSink(a, pool, (JdbcOffsetStore) store) : kafkaSink(a);
    sink = new FaultyOutput(sink, a);
    items.writeTo(sink);

    ScheduledExecutorService stopWatcher = null;
    try {
      ctx.start();
      out.println(STARTED + " pid=" + ProcessHandle.current().pid());
      out.flush();
      if (a.stopFile != null) {
        stopWatcher = watchStopFile(ctx, Path.of(a.stopFile), out);
      }
      ctx.awaitTermination();
      out.println(STOPPED);
      return 0;
    } catch (RuntimeException e) {
      out.println("CHAOS_PIPELINE_FAILED " + e);
      e.printStackTrace(out);
      return 1;
    } finally {
      out.flush();
      if (stopWatcher != null) {
        stopWatcher.shutdownNow();
      }
      if (store != null) {
        store.close();
      }
      if (pool != null) {
        pool.close();
      }
    }
  }

  /**
   * Stops the context gracefully once {@code stopFile} exists: every batch already planned or due
   * runs and commits, then the JVM exits with 0.
   */
  static ScheduledExecutorService watchStopFile(
      StreamingContext ctx, Path stopFile, PrintStream out) {
    ScheduledExecutorService watcher =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "chaos-stop-watcher");
              t.setDaemon(true);
              return t;
            });
    AtomicBoolean stopping = new AtomicBoolean();
    watcher.scheduleWithFixedDelay(
        () -> {
          if (Files.exists(stopFile) && stopping.compareAndSet(false, true)) {
            out.println(STOPPING);
            out.flush();
            ctx.stop(true);
          }
        },
        10,
        10,
        TimeUnit.MILLISECONDS);
    return watcher;
  }

  static HikariDataSource pool(Args a) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(a.jdbcUrl);
    config.setUsername(a.jdbcUser);
    config.setPassword(a.jdbcPassword);
    config.setMaximumPoolSize(4);
    config.setPoolName("chaos-pipeline");
    return new HikariDataSource(config);
  }

  private static BatchOutput<Item> jdbcSink(Args a, HikariDataSource pool, JdbcOffsetStore store) {
    long run = ProcessHandle.current().pid();
    return JdbcSink.<Item>builder()
        .dataSource(pool)
        .sql(
            "INSERT INTO "
                + a.table
                + " (n, kafka_partition, kafka_offset, batch_id, run) VALUES (?, ?, ?, ?, ?)")
        .binder(
            (ps, item) -> {
              ps.setLong(1, item.n());
              ps.setInt(2, item.partition());
              ps.setLong(3, item.offset());
              ps.setLong(4, item.batchId());
              ps.setLong(5, run);
            })
        .offsetStore(store)
        .name("chaos-jdbc")
        .build();
  }

  private static BatchOutput<Item> kafkaSink(Args a) {
    byte[] run = Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8);
    return KafkaSink.<Item>builder()
        .producerConfig(Map.of("bootstrap.servers", a.bootstrap))
        .keySerializer(new StringSerializer())
        .valueSerializer(new StringSerializer())
        .record(
            item -> {
              RecordHeaders headers = new RecordHeaders();
              headers.add("batch", Long.toString(item.batchId()).getBytes(StandardCharsets.UTF_8));
              headers.add("run", run);
              headers.add(
                  "source",
                  (item.partition() + "@" + item.offset()).getBytes(StandardCharsets.UTF_8));
              String n = Long.toString(item.n());
              return new ProducerRecord<>(a.outputTopic, item.partition(), n, n, headers);
            })
        .name("chaos-kafka")
        .exactlyOnce()
        .build();
  }

  /**
   * One input record as the pipeline carries it: its number, where it came from and which batch
   * wrote it.
   */
  record Item(long n, int partition, long offset, long batchId) {
    Item inBatch(long id) {
      return new Item(n, partition, offset, id);
    }
  }

  /** Creates {@code marker}; true only for the one caller that created it, across processes too. */
  static boolean fireOnce(Path marker) {
    try {
      Files.createFile(marker);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Passes a partition through and, when {@code armed} and the task computes partition 0, throws
   * once after 100 records (or at the partition's end when it is shorter), so the failure lands
   * mid-partition.
   */
  static final class FailOnceIterator<T> implements Iterator<T> {
    private final Iterator<T> in;
    private final boolean armed;
    private final long batchId;
    private final Path marker;
    private final boolean terminal;
    private final String message;
    private int seen;

    FailOnceIterator(
        Iterator<T> in,
        boolean armed,
        long batchId,
        Path marker,
        boolean terminal,
        String message) {
      this.in = in;
      this.batchId = batchId;
      this.armed =
          armed && TaskContext.current().orElseThrow().partition() == 0 && !Files.exists(marker);
      this.marker = marker;
      this.terminal = terminal;
      this.message = message;
    }

    @Override
    public boolean hasNext() {
      boolean more = in.hasNext();
      if (!more) {
        maybeFail();
      }
      return more;
    }

    @Override
    public T next() {
      if (!in.hasNext()) {
        throw new NoSuchElementException();
      }
      T t = in.next();
      if (++seen >= 100) {
        maybeFail();
      }
      return t;
    }

    private void maybeFail() {
      if (armed && seen > 0 && fireOnce(marker)) {
        TaskContext tc = TaskContext.current().orElseThrow();
        String what =
            message
                + " in batch "
                + batchId
                + ", partition "
                + tc.partition()
                + ", attempt "
                + tc.attemptNumber()
                + ", after "
                + seen
                + " records";
        System.out.println("INJECTED " + what);
        System.out.flush();
        if (terminal) {
          throw new TerminalException(what);
        }
        throw new IllegalStateException(what);
      }
    }
  }

  /**
   * Wraps the real sink: stamps every item with the id of the batch writing it (the sink's own
   * tasks may not see the batch in their TaskContext) and injects the faults the arguments ask for.
   * A failing task ({@code --failTaskBatch}) throws a retriable exception in the first attempt of
   * partition 0; the sink failure ({@code --failSinkBatch}) either fails a task of the sink's job
   * terminally while its transaction is open ({@code during}) or throws once the sink has committed
   * ({@code after}).
   */
  static final class FaultyOutput implements BatchOutput<Item> {
    private final BatchOutput<Item> delegate;
    private final Args a;

    FaultyOutput(BatchOutput<Item> delegate, Args a) {
      this.delegate = delegate;
      this.a = a;
    }

    @Override
    public void write(RDD<Item> rdd, Batch batch) throws Exception {
      long id = batch.id();
      RDD<Item> out = rdd.map(item -> item.inBatch(id));
      if (a.failTaskBatch >= 0 && id >= a.failTaskBatch) {
        Path marker = Path.of(a.failTaskMarker);
        out =
            out.mapPartitions(
                it -> new FailOnceIterator<>(it, true, id, marker, false, "injected task failure"));
      }
      boolean sinkArmed =
          a.failSinkBatch >= 0 && id >= a.failSinkBatch && !Files.exists(Path.of(a.failSinkMarker));
      if (sinkArmed && a.failSinkMode.equals("during")) {
        Path marker = Path.of(a.failSinkMarker);
        out =
            out.mapPartitions(
                it ->
                    new FailOnceIterator<>(
                        it, true, id, marker, true, "injected sink failure (during)"));
      }
      delegate.write(out, batch);
      if (sinkArmed && a.failSinkMode.equals("after") && fireOnce(Path.of(a.failSinkMarker))) {
        System.out.println("INJECTED sink failure (after commit) in batch " + id);
        System.out.flush();
        throw new IllegalStateException(
            "injected sink failure after the sink committed batch " + id);
      }
    }

    @Override
    public DeliveryGuarantee guarantee() {
      return delegate.guarantee();
    }

    @Override
    public List<String> exactlyOnceGaps() {
      return delegate.exactlyOnceGaps();
    }

    @Override
    public Optional<CommitTarget> offsetCommitTarget() {
      // The wrapped sink commits the input's offsets in its transaction: the engine must know, or
      // it
      // commits them a second time after the batch.
      return delegate.offsetCommitTarget();
    }

    @Override
    public void open(StreamingContext context) throws Exception {
      delegate.open(context);
    }

    @Override
    public void close() throws Exception {
      delegate.close();
    }

    @Override
    public String describe() {
      return "Faulty(" + delegate.describe() + ")";
    }
  }

  /**
   * Prints {@code LEADER_WAITING} before and {@code LEADER_ELECTED} after the wait for leadership,
   * and {@code LEADER_LOST} when it is lost, for the standby test.
   */
  static final class PrintingElection implements LeaderElection {
    private final LeaderElection delegate;
    private final PrintStream out;

    PrintingElection(LeaderElection delegate, PrintStream out) {
      this.delegate = delegate;
      this.out = out;
      delegate.onLeadershipLost(
          () -> {
            out.println("LEADER_LOST " + ProcessHandle.current().pid());
            out.flush();
          });
    }

    @Override
    public void awaitLeadership() throws InterruptedException {
      out.println("LEADER_WAITING " + ProcessHandle.current().pid());
      out.flush();
      delegate.awaitLeadership();
      out.println("LEADER_ELECTED " + ProcessHandle.current().pid());
      out.flush();
    }

    @Override
    public boolean isLeader() {
      return delegate.isLeader();
    }

    @Override
    public void onLeadershipLost(Runnable callback) {
      delegate.onLeadershipLost(callback);
    }

    @Override
    public String describe() {
      return delegate.describe();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  /** Prints batch events for the test's log analysis. Listener thread. */
  static final class BatchPrinter implements StreamingListener {
    private final PrintStream out;

    BatchPrinter(PrintStream out) {
      this.out = out;
    }

    @Override
    public void onBatchStarted(BatchInfo b) {
      out.println("BATCH_STARTED " + b.batchId() + " records=" + b.numRecords());
    }

    @Override
    public void onBatchCompleted(BatchInfo b) {
      out.println("BATCH_COMPLETED " + b.batchId());
    }

    @Override
    public void onBatchFailed(BatchInfo b, Throwable cause) {
      out.println("BATCH_FAILED " + b.batchId() + " " + cause);
    }
  }

  /** The command line. */
  static final class Args {
    String pipeline;
    String bootstrap;
    String jdbcUrl;
    String jdbcUser;
    String jdbcPassword;
    String table;
    String inputTopic;
    String outputTopic;
    String checkpointDir;
    String appName;
    long batchIntervalMs = 200;
    long maxRatePerPartition = 25_000;
    int parallelism = 4;
    long failTaskBatch = -1;
    String failTaskMarker;
    long failSinkBatch = -1;
    String failSinkMarker;
    String failSinkMode = "during";
    String offsetStore = "kafka";
    String stopFile;
    String zkConnect;
    String leaderPath;
    long zkSessionTimeoutMs = 4_000;

    /**
     * Parses {@code argv}; {@code pipelines} are the values {@code --pipeline} may take, every one
     * but {@code kafka} writing to PostgreSQL.
     */
    static Args parse(String[] argv, List<String> pipelines) {
      Map<String, String> m = new HashMap<>();
      for (String s : argv) {
        int eq = s.indexOf('=');
        if (!s.startsWith("--") || eq < 0) {
          throw new IllegalArgumentException("expected --name=value, was '" + s + "'");
        }
        m.put(s.substring(2, eq), s.substring(eq + 1));
      }
      Args a = new Args();
      a.pipeline = required(m, "pipeline");
      if (!pipelines.contains(a.pipeline)) {
        throw new IllegalArgumentException(
            "pipeline must be one of " + pipelines + ", was '" + a.pipeline + "'");
      }
      a.bootstrap = required(m, "bootstrap");
      a.inputTopic = required(m, "inputTopic");
      a.checkpointDir = required(m, "checkpointDir");
      a.appName = required(m, "appName");
      if (!a.pipeline.equals("kafka")) {
        a.jdbcUrl = required(m, "jdbcUrl");
        a.jdbcUser = required(m, "jdbcUser");
        a.jdbcPassword = m.getOrDefault("jdbcPassword", "");
        a.table = required(m, "table");
      } else {
        a.outputTopic = required(m, "outputTopic");
        a.offsetStore = m.getOrDefault("offsetStore", "kafka");
        if (!List.of("kafka", "none").contains(a.offsetStore)) {
          throw new IllegalArgumentException(
              "offsetStore must be kafka or none (the KafkaSink commits the offsets"
                  + " to the consumer group), was '"
                  + a.offsetStore
                  + "'");
        }
      }
      a.stopFile = m.get("stopFile");
      a.leaderPath = m.get("leaderPath");
      if (a.leaderPath != null) {
        a.zkConnect = required(m, "zkConnect");
        a.zkSessionTimeoutMs = Long.parseLong(m.getOrDefault("zkSessionTimeoutMs", "4000"));
      }
      a.batchIntervalMs = Long.parseLong(m.getOrDefault("batchIntervalMs", "200"));
      a.maxRatePerPartition = Long.parseLong(m.getOrDefault("maxRatePerPartition", "25000"));
      a.parallelism = Integer.parseInt(m.getOrDefault("parallelism", "4"));
      a.failTaskBatch = Long.parseLong(m.getOrDefault("failTaskBatch", "-1"));
      if (a.failTaskBatch >= 0) {
        a.failTaskMarker = required(m, "failTaskMarker");
      }
      a.failSinkBatch = Long.parseLong(m.getOrDefault("failSinkBatch", "-1"));
      if (a.failSinkBatch >= 0) {
        a.failSinkMarker = required(m, "failSinkMarker");
        a.failSinkMode = m.getOrDefault("failSinkMode", "during");
        if (!a.failSinkMode.equals("during") && !a.failSinkMode.equals("after")) {
          throw new IllegalArgumentException(
              "failSinkMode must be during or after, was '" + a.failSinkMode + "'");
        }
      }
      return a;
    }

    private static String required(Map<String, String> m, String name) {
      String v = m.get(name);
      if (v == null || v.isBlank()) {
        throw new IllegalArgumentException("--" + name + " is required");
      }
      return Objects.requireNonNull(v);
    }
  }
}

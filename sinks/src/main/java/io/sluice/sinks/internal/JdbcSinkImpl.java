package io.sluice.sinks.internal;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.sluice.engine.Batch;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.LeadershipLostException;
import io.sluice.engine.SequencePosition;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import io.sluice.engine.state.StateChange;
import io.sluice.engine.state.StateChangelog;
import io.sluice.offsets.BatchCommit;
import io.sluice.offsets.GroupMemberCommits;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetFencedException;
import io.sluice.offsets.OffsetRange;
import io.sluice.offsets.StaleBatchException;
import io.sluice.sinks.CopyRow;
import io.sluice.sinks.JdbcSink;
import io.sluice.sinks.RowBinder;
import io.sluice.sinks.SinkException;
import io.sluice.sinks.TransactionalSink;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDBC sink; see {@link JdbcSink}. {@link #write} runs on the job thread, which alone uses the
 * batch's connection; {@code open}/{@code close} on the context's start and stop threads.
 *
 * @param <T> record type
 */
public final class JdbcSinkImpl<T> implements JdbcSink<T>, GroupMemberCommits {

  private static final Logger LOG = LoggerFactory.getLogger(JdbcSinkImpl.class);

  /** Groups whose partitions are shared among processes (group mode), with their member. */
  private final Map<String, Function<Collection<TopicPartition>, ConsumerGroupMetadata>> members =
      new ConcurrentHashMap<>();

  /**
   * Chunks that may wait for the job thread per task slot: enough to keep the slots busy while it
   * writes.
   */
  private static final int QUEUED_CHUNKS_PER_SLOT = 2;

  /**
   * How long a session holding the group's offset row lock may sit idle before PostgreSQL ends it.
   */
  static final java.time.Duration LOCK_HOLDING_IDLE_LIMIT = java.time.Duration.ofSeconds(10);

  /** Whether the database is PostgreSQL; null until the first commit. */
  private volatile Boolean postgres;

  /** The validated builder settings. */
  public record Settings<T>(
      DataSource dataSource,
      String jdbcUrl,
      String user,
      String password,
      String sql,
      RowBinder<T> binder,
      JdbcOffsetStore offsetStore,
      int batchSize,
      String name,
      Copy<T> copy) {}

  /** The COPY mode's settings; see {@link JdbcSink.Builder#copyVia}. */
  public record Copy<T>(String stagingTable, String columns, CopyRow<T> row) {}

  private final Settings<T> settings;
  private volatile DataSource dataSource;
  private volatile HikariDataSource ownedPool;
  private volatile SinkMetrics metrics;
  private volatile boolean warnedNoOffsets;
  private volatile String appName;
  private volatile JdbcStateTable stateTable;

  /** Creates the sink from validated settings; connects at {@link #open} (or first write). */
  public JdbcSinkImpl(Settings<T> settings) {
    this.settings = settings;
    this.dataSource = settings.dataSource();
    this.metrics = SinkMetrics.detached(describe());
  }

  @Override
  public String describe() {
    return "JdbcSink[" + settings.name() + "]";
  }

  @Override
  public DeliveryGuarantee guarantee() {
    return settings.offsetStore() != null
        ? DeliveryGuarantee.EXACTLY_ONCE
        : DeliveryGuarantee.AT_LEAST_ONCE;
  }

  @Override
  public Optional<CommitTarget> offsetCommitTarget() {
    return Optional.ofNullable(settings.offsetStore())
        .map(store -> new CommitTarget(store.location(), "offset store " + store.describe()));
  }

  /** With an offset store, a receiver stream's block numbers commit with the rows too. */
  @Override
  public boolean commitsSequences() {
    return settings.offsetStore() != null;
  }

  @Override
  public Optional<SequencePosition> committedSequence(String sequence) {
    if (settings.offsetStore() == null) {
      throw new UnsupportedOperationException(describe() + " has no offset store");
    }
    return TransactionalSink.committedSequence(settings.offsetStore(), sequenceGroup(), sequence);
  }

  /** Between a window's slides: the sequenced inputs' progress, in a transaction of its own. */
  @Override
  public void commitSequences(Batch batch) {
    if (settings.offsetStore() == null) {
      throw new UnsupportedOperationException(describe() + " has no offset store");
    }
    for (BatchCommit commit : TransactionalSink.batchCommits(batch, sequenceGroup())) {
      if (commit.group().equals(sequenceGroup())) {
        settings.offsetStore().commit(commit);
      }
    }
  }

  private String sequenceGroup() {
    return TransactionalSink.sequenceGroup(appName);
  }

  @Override
  public List<String> exactlyOnceGaps() {
    if (settings.offsetStore() != null) {
      return List.of();
    }
    return List.of(
        describe()
            + " has no offset store: rows and offsets cannot commit together"
            + " (set offsetStore(OffsetStores.jdbc(...)) on the sink's database)");
  }

  /**
   * With an offset store, the changelog of keyed state that moves with a group-mode input's
   * partitions: table {@code sluice_state}, written in each batch's transaction.
   */
  @Override
  public Optional<StateChangelog> stateChangelog() {
    if (settings.offsetStore() == null) {
      return Optional.empty();
    }
    return Optional.of(
        new StateChangelog() {
          @Override
          public void restore(String operator, String source, BiConsumer<byte[], byte[]> entry)
              throws SQLException {
            try (Connection c = dataSource().getConnection()) {
              JdbcStateTable table = stateTable();
              table.ensureCreated(c);
              table.read(c, operator, source, entry);
              if (!c.getAutoCommit()) {
                c.rollback(); // read only: end the transaction before the pool takes it back
              }
            }
          }

          @Override
          public String describeChangelog() {
            return "table " + JdbcStateTable.TABLE + " of " + describe();
          }
        });
  }

  private JdbcStateTable stateTable() {
    JdbcStateTable t = stateTable;
    if (t == null) {
      throw new IllegalStateException(describe() + " is not open");
    }
    return t;
  }

  @Override
  public synchronized void open(StreamingContext context) {
    appName = context.appName();
    stateTable = new JdbcStateTable(appName);
    metrics = SinkMetrics.of(context.meterRegistry(), context.appName(), describe());
    dataSource();
    if (settings.copy() != null) {
      PgCopy.requirePostgres(describe(), dataSource());
    }
  }

  private synchronized DataSource dataSource() {
    if (dataSource == null) {
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(settings.jdbcUrl());
      config.setUsername(settings.user());
      config.setPassword(settings.password());
      config.setAutoCommit(false);
      // One batch writes at a time per sink; a second connection covers a replay racing a close.
      config.setMaximumPoolSize(2);
      config.setPoolName("sluice-jdbc-sink-" + settings.name());
      ownedPool = new HikariDataSource(config);
      dataSource = ownedPool;
    }
    return dataSource;
  }

  /**
   * Group mode: the commit is fenced by its offsets only (the processes number their batches
   * apart), inside the transaction, once the member confirmed it still owns the partitions.
   */
  @Override
  public void commitAsMemberOf(
      String group,
      String memberKey,
      Function<Collection<TopicPartition>, ConsumerGroupMetadata> metadata) {
    members.put(group, metadata);
  }

  private BatchCommit asMember(BatchCommit commit) {
    var member = members.get(commit.group());
    if (member == null) {
      return commit;
    }
    member.apply(commit.ranges().stream().map(OffsetRange::topicPartition).toList());
    return commit.asShared();
  }

  /**
   * On PostgreSQL, from here to the end of the transaction (the offset commit, which holds the
   * group's row lock) a session idle for {@link #LOCK_HOLDING_IDLE_LIMIT} is ended by the server: a
   * process frozen while it holds the lock (a stopped VM, a long GC pause) cannot stall the group's
   * next committer (a standby that took over, another group member) for longer than that. The rest
   * of the batch's transaction, where tasks may keep the session idle while they read, is not
   * bound.
   */
  private void boundLockHolding(Connection c) throws SQLException {
    if (postgres == null) {
      postgres = "PostgreSQL".equalsIgnoreCase(c.getMetaData().getDatabaseProductName());
    }
    if (postgres) {
      try (Statement st = c.createStatement()) {
        st.execute(
            "SET LOCAL idle_in_transaction_session_timeout = "
                + LOCK_HOLDING_IDLE_LIMIT.toMillis());
      }
    }
  }

  @Override
  public void write(RDD<T> rdd, Batch batch) throws Exception {
    long start = System.nanoTime();
    List<BatchCommit> commits =
        settings.offsetStore() == null
            ? List.of()
            : TransactionalSink.batchCommits(batch, sequenceGroup());
    if (settings.offsetStore() != null && commits.isEmpty() && !warnedNoOffsets) {
      warnedNoOffsets = true;
      LOG.warn(
          "{}: batch {} has no input offsets to commit: a replay of such batches writes its rows"
              + " again",
          describe(),
          batch.id());
    }
    List<StateChange> changes = StateChangelog.changes(rdd.context(), batch);
    try (Connection c = dataSource().getConnection()) {
      boolean autoCommit = c.getAutoCommit();
      if (!changes.isEmpty()) {
        stateTable().ensureCreated(c); // before the batch's transaction: DDL commits
      }
      c.setAutoCommit(false);
      try {
        long rows =
            settings.copy() != null
                ? PgCopy.write(
                    c,
                    rdd,
                    settings.copy(),
                    settings.sql(),
                    settings.batchSize(),
                    QUEUED_CHUNKS_PER_SLOT * rdd.context().parallelism(),
                    describe(),
                    batch)
                : writeRows(c, rdd, batch);
        if (!changes.isEmpty()) {
          stateTable().write(c, changes);
        }
        if (!commits.isEmpty()) {
          boundLockHolding(c);
        }
        for (BatchCommit commit : commits) {
          settings.offsetStore().commit(c, asMember(commit));
        }
        requireLeader(rdd, batch);
        c.commit();
        metrics.batchWritten(start, rows);
        LOG.debug(
            "{}: batch {} committed {} rows and offsets of {}",
            describe(),
            batch.id(),
            rows,
            groups(commits));
      } catch (Exception e) {
        rollback(c, e);
        throw failure(batch, e);
      } catch (Error e) {
        rollback(c, e);
        throw e;
      } finally {
        // A pool the application owns may hand the connection out again as it was lent.
        restoreAutoCommit(c, autoCommit);
      }
    } catch (SQLException e) {
      throw failure(batch, e);
    }
  }

  /**
   * Refuses to commit once the context lost the leadership of its election: a standby may have
   * taken over (the offsets would fence this commit anyway when it has committed since).
   */
  private void requireLeader(RDD<T> rdd, Batch batch) {
    if (!rdd.context().isLeader()) {
      throw new LeadershipLostException(
          describe()
              + ": batch "
              + batch.id()
              + " rolled back: this process does not lead its application any more");
    }
  }

  /**
   * Streams the batch's rows into the statement: the tasks hand over chunks of {@code batchSize}
   * rows, each bound and sent as one JDBC batch on this (the job) thread, so memory is bounded by a
   * few chunks, not by the partitions' size.
   */
  private long writeRows(Connection c, RDD<T> rdd, Batch batch) throws Exception {
    long[] rows = {0};
    try (PreparedStatement ps = c.prepareStatement(settings.sql())) {
      rdd.consumePartitions(
          settings.batchSize(),
          QUEUED_CHUNKS_PER_SLOT * rdd.context().parallelism(),
          (partition, chunk) -> {
            for (T record : chunk) {
              bind(ps, record, batch, partition);
              ps.addBatch();
            }
            ps.executeBatch();
            rows[0] += chunk.size();
          });
    }
    return rows[0];
  }

  private void bind(PreparedStatement ps, T record, Batch batch, int partition) {
    try {
      settings.binder().bind(ps, record);
    } catch (Exception e) {
      throw new SinkException(
          describe()
              + ": the binder failed on a record of partition "
              + partition
              + " of batch "
              + batch.id()
              + ": "
              + e,
          e);
    }
  }

  private static void rollback(Connection c, Throwable cause) {
    try {
      c.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  private static void restoreAutoCommit(Connection c, boolean autoCommit) {
    try {
      if (autoCommit) {
        c.setAutoCommit(true);
      }
    } catch (SQLException e) {
      LOG.debug("cannot restore auto-commit on a connection: {}", e.toString());
    }
  }

  /** Whether PostgreSQL ended the session for sitting idle in the transaction (25P03). */
  private static boolean endedWhileIdle(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException sql && "25P03".equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  private SinkException failure(Batch batch, Throwable e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
    if (e instanceof OffsetFencedException fenced) {
      return new SinkException(
          describe()
              + ": batch "
              + batch.id()
              + " rolled back (no rows, no offsets): "
              + fenced.getMessage(),
          e);
    }
    if (e instanceof StaleBatchException stale) {
      return new SinkException(
          describe()
              + ": batch "
              + batch.id()
              + " of group '"
              + stale.group()
              + "' was committed by another writer while this one wrote it (store holds batch "
              + stale.lastCommittedBatchId()
              + "); rolled back: is a second driver running?",
          e);
    }
    if (e instanceof SinkException se) {
      return se;
    }
    if (endedWhileIdle(e)) {
      return new SinkException(
          describe()
              + ": batch "
              + batch.id()
              + " rolled back (no rows, no offsets): the database ended this session after it sat"
              + " idle for "
              + LOCK_HOLDING_IDLE_LIMIT.toSeconds()
              + " s inside the offset commit, holding the group's row lock (SQLState 25P03: this"
              + " process was frozen or paused); another process may have committed since",
          e);
    }
    String detail = e.toString();
    if (e instanceof BatchUpdateException bue && bue.getNextException() != null) {
      detail += " / " + bue.getNextException().getMessage();
    }
    return new SinkException(
        describe()
            + ": batch "
            + batch.id()
            + " failed and was rolled back (no rows, no"
            + " offsets): "
            + detail,
        e);
  }

  private static List<String> groups(List<BatchCommit> commits) {
    return commits.stream().map(BatchCommit::group).toList();
  }

  @Override
  public synchronized void close() {
    if (ownedPool != null) {
      ownedPool.close();
      ownedPool = null;
      dataSource = null;
    }
  }
}

package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.LeaderElection;
import io.sluice.engine.LeadershipLostException;
import io.sluice.engine.ManualClock;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.TaskContext;
import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A transactional sink checks the leadership right before it commits. */
@ExtendWith(EmbeddedPostgresExtension.class)
class StandbySinkTest {

  private static final Duration INTERVAL = Duration.ofMillis(200);

  /** Leads from the start; {@link #loseSilently()} makes it know it lost before it tells anyone. */
  static final class Election implements LeaderElection {
    private volatile boolean lost;

    @Override
    public void awaitLeadership() {}

    @Override
    public boolean isLeader() {
      return !lost;
    }

    @Override
    public void onLeadershipLost(Runnable callback) {}

    @Override
    public String describe() {
      return "test-election";
    }

    @Override
    public void close() {}

    void loseSilently() {
      lost = true;
    }
  }

  @Test
  void jdbcSinkRollsBackABatchWhoseLeadershipWentWhileItWrote(EmbeddedPostgresDatabase db)
      throws Exception {
    DataSource ds = db.dataSource();
    String table = "standby_sink_" + System.nanoTime() % 1_000_000;
    execute(ds, "CREATE TABLE " + table + " (word VARCHAR(20) NOT NULL)");
    String group = "standby-" + table;
    Election election = new Election();
    ManualClock clock = new ManualClock();
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("standby-sink")
            .batchInterval(INTERVAL)
            .parallelism(2)
            .clock(clock)
            .leaderElection(election)
            .build();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (JdbcOffsetStore store = OffsetStores.jdbc(ds)) {
      new PipelineTest.NumberInput(ctx, group, "numbers")
          .map(
              w -> {
                if (TaskContext.current().orElseThrow().batchId() == 0) {
                  entered.countDown();
                  release.await(30, TimeUnit.SECONDS);
                }
                return w;
              })
          .writeTo(
              JdbcSink.<String>builder()
                  .dataSource(ds)
                  .sql("INSERT INTO " + table + " (word) VALUES (?)")
                  .binder((st, w) -> st.setString(1, w))
                  .offsetStore(store)
                  .build());
      ctx.start();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(50))
          .until(
              () -> {
                clock.advance(INTERVAL);
                return entered.getCount() == 0;
              });

      election.loseSilently();
      release.countDown();

      assertThatThrownBy(() -> ctx.awaitTermination(Duration.ofSeconds(30)))
          .isInstanceOf(LeadershipLostException.class)
          .hasMessageContaining("lost the leadership at test-election");
      assertThat(count(ds, table)).isZero();
      assertThat(store.lastBatchId(group)).isEmpty();
    } finally {
      ctx.stop(false);
    }
  }

  private static long count(DataSource ds, String table) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}

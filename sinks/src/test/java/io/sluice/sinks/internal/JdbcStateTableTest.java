package io.sluice.sinks.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The state changelog table on PostgreSQL. */
@ExtendWith(EmbeddedPostgresExtension.class)
class JdbcStateTableTest {

  /**
   * Processes of one application start together on a fresh database: each creates {@code
   * sluice_state} on its first restore. PostgreSQL's {@code CREATE TABLE IF NOT EXISTS} does not
   * cover a concurrent creation (one of them fails on {@code pg_type}'s unique index), which must
   * not fail their batches.
   */
  @Test
  void processesCreatingTheTableAtTheSameTimeAllSucceed(EmbeddedPostgresDatabase db)
      throws Exception {
    DataSource ds = db.dataSource();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      for (int round = 0; round < 10; round++) {
        String schema = "state_race_" + System.nanoTime();
        try (Connection c = ds.getConnection();
            Statement st = c.createStatement()) {
          st.execute("CREATE SCHEMA " + schema);
        }
        CyclicBarrier together = new CyclicBarrier(3);
        List<Future<?>> creators = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
          creators.add(
              pool.submit(
                  () -> {
                    try (Connection c = ds.getConnection()) {
                      c.setSchema(schema);
                      JdbcStateTable table = new JdbcStateTable("app");
                      together.await();
                      table.ensureCreated(c);
                    }
                    return null;
                  }));
        }
        for (Future<?> creator : creators) {
          creator.get();
        }
        try (Connection c = ds.getConnection();
            Statement st = c.createStatement();
            ResultSet rs =
                st.executeQuery(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '"
                        + schema
                        + "' AND table_name = '"
                        + JdbcStateTable.TABLE
                        + "'")) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(1);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}

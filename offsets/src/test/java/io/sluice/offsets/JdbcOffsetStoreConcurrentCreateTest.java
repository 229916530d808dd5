package io.sluice.offsets;

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

/**
 * Processes of one application start together on a fresh database, each building its JDBC offset
 * store, which creates the schema and tables if absent. PostgreSQL's {@code IF NOT EXISTS} does not
 * cover a concurrent creation (one fails on a catalog's unique index); no process may fail.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class JdbcOffsetStoreConcurrentCreateTest {

  @Test
  void storesCreatingTheTablesAtTheSameTimeAllOpen(EmbeddedPostgresDatabase db) throws Exception {
    DataSource ds = db.dataSource();
    ExecutorService pool = Executors.newFixedThreadPool(3);
    try {
      for (int round = 0; round < 10; round++) {
        String schema = "offsets_race_" + System.nanoTime();
        CyclicBarrier together = new CyclicBarrier(3);
        List<Future<?>> creators = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
          creators.add(
              pool.submit(
                  () -> {
                    together.await();
                    try (JdbcOffsetStore store =
                        OffsetStores.jdbcBuilder().dataSource(ds).schema(schema).build()) {
                      assertThat(store.committed("g")).isEmpty();
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
                        + "'")) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(3);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }
}

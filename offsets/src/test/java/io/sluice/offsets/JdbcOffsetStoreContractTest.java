package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.OptionalLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** The contract plus what a JDBC store adds: the offset check inside a caller's transaction. */
abstract class JdbcOffsetStoreContractTest extends OffsetStoreContractTest {

  /** The database the stores of this class use. */
  protected abstract DataSource dataSource();

  @Test
  void joinedCommitFromElsewhereIsRefusedInsideTheCallersTransaction() throws SQLException {
    JdbcOffsetStore jdbc = (JdbcOffsetStore) store;
    jdbc.commit(batch(group, 0, new OffsetRange(ORDERS, 0, 0, 10)));
    String table = "sink_rows_" + Math.abs(group.hashCode());
    try (Connection c = dataSource().getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE " + table + " (id INTEGER)");
      c.setAutoCommit(false);
      st.execute("INSERT INTO " + table + " VALUES (1)");

      assertThatThrownBy(() -> jdbc.commit(c, batch(group, 1, new OffsetRange(ORDERS, 0, 7, 20))))
          .isInstanceOfSatisfying(
              OffsetFencedException.class,
              e -> {
                assertThat(e.fromOffset()).isEqualTo(7);
                assertThat(e.storedOffset()).isEqualTo(10);
              });
      // Inside the caller's transaction, nothing of the refused commit is visible either.
      assertThat(jdbc.committed(c, group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L));
      assertThat(jdbc.lastBatchId(c, group)).isEqualTo(OptionalLong.of(0));
      c.rollback();

      assertThat(jdbc.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 10L));
      try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getLong(1)).isZero();
      }

      st.execute("INSERT INTO " + table + " VALUES (2)");
      jdbc.commit(c, batch(group, 1, new OffsetRange(ORDERS, 0, 10, 20)));
      c.commit();
      assertThat(jdbc.committed(group)).isEqualTo(Map.of(tp(ORDERS, 0), 20L));
      st.execute("DROP TABLE " + table);
      c.commit();
    }
  }
}

package io.sluice.offsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class JdbcJoinedTransactionTest {

  private final JdbcOffsetStore store = OffsetStores.jdbc(H2JdbcOffsetStoreContractTest.H2);

  private static BatchCommit commit(String group, long id, long until) {
    return new BatchCommit(
        group, id, Instant.EPOCH, List.of(new OffsetRange("orders", 0, 0, until)));
  }

  @Test
  void offsetsCommitAndRollBackWithTheCallersRows() throws SQLException {
    try (Connection c = H2JdbcOffsetStoreContractTest.H2.getConnection();
        Statement st = c.createStatement()) {
      st.execute("CREATE TABLE IF NOT EXISTS revenue(product VARCHAR(20), cents BIGINT)");
      c.setAutoCommit(false);
      st.execute("INSERT INTO revenue VALUES ('a', 5)");
      store.commit(c, commit("joined", 0, 10));
      assertThat(store.lastBatchId(c, "joined")).isEqualTo(OptionalLong.of(0));
      c.rollback();
      assertThat(store.lastBatchId("joined")).isEmpty();

      st.execute("INSERT INTO revenue VALUES ('b', 7)");
      store.commit(c, commit("joined", 0, 10));
      c.commit();
      assertThat(store.committed("joined")).isEqualTo(Map.of(new TopicPartition("orders", 0), 10L));
      // Batch 0 again: its range no longer begins where the group stands, and its id is taken.
      assertThatThrownBy(() -> store.commit(c, commit("joined", 0, 20)))
          .isInstanceOf(OffsetFencedException.class);
      assertThatThrownBy(
              () ->
                  store.commit(
                      c,
                      new BatchCommit(
                          "joined",
                          0,
                          Instant.EPOCH,
                          List.of(new OffsetRange("orders", 0, 10, 20)))))
          .isInstanceOf(StaleBatchException.class);
      c.rollback();
    }
  }

  @Test
  void autoCommitConnectionIsRefused() throws SQLException {
    try (Connection c = H2JdbcOffsetStoreContractTest.H2.getConnection()) {
      assertThatThrownBy(() -> store.commit(c, commit("auto", 0, 1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("txConnection must have auto-commit off to join its transaction");
    }
  }
}

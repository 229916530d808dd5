package io.sluice.offsets;

import java.sql.Connection;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;

/**
 * An {@link OffsetStore} in a relational database (PostgreSQL, H2), whose commit can also join a
 * caller's transaction, so that a sink commits its rows and the batch's offsets together. Built
 * through {@link OffsetStores#jdbc(javax.sql.DataSource)} or {@link OffsetStores#jdbcBuilder()};
 * the tables are created if absent (see {@link #DDL}).
 *
 * <p>Every commit locks the group's row in {@code <prefix>offset_groups} ({@code SELECT ... FOR
 * UPDATE}), checks the batch id against the last one, reads the group's offsets and checks that
 * every range begins at its partition's stored next offset (see {@link OffsetStore}), then updates
 * the offsets and appends the history, all in one transaction: concurrent committers of a group
 * serialise on that row lock, so the check and the write are one atomic step. A reset takes the
 * same lock but skips the offset check.
 */
public interface JdbcOffsetStore extends OffsetStore {

  /**
   * The tables with the default names (prefix {@code sluice_}, no schema), as the store creates
   * them.
   */
  String DDL =
      """
      CREATE TABLE IF NOT EXISTS sluice_offset_groups (
        group_id        VARCHAR(255) NOT NULL PRIMARY KEY,
        last_batch_id   BIGINT NOT NULL,
        last_batch_time TIMESTAMP WITH TIME ZONE
      );
      CREATE TABLE IF NOT EXISTS sluice_offsets (
        group_id        VARCHAR(255) NOT NULL,
        topic           VARCHAR(255) NOT NULL,
        kafka_partition INTEGER NOT NULL,
        next_offset     BIGINT NOT NULL,
        batch_id        BIGINT NOT NULL,
        PRIMARY KEY (group_id, topic, kafka_partition)
      );
      CREATE TABLE IF NOT EXISTS sluice_offset_history (
        group_id        VARCHAR(255) NOT NULL,
        batch_id        BIGINT NOT NULL,
        batch_time      TIMESTAMP WITH TIME ZONE NOT NULL,
        commit_json     VARCHAR(1000000) NOT NULL,
        PRIMARY KEY (group_id, batch_id)
      );
      """;

  /**
   * Commits one batch's offsets inside the caller's transaction on {@code txConnection}, which must
   * have auto-commit off, with the same checks as {@link #commit(BatchCommit)}. Does not commit,
   * roll back or close the connection: the offsets become durable when the caller commits, together
   * with whatever else it wrote; if the caller rolls back, nothing of this commit remains. Holds
   * the group's row lock until the caller ends the transaction. Blocking; call from the thread that
   * owns the connection.
   *
   * @throws StaleBatchException when the group already holds a batch id at or above this one; the
   *     caller must roll back
   * @throws OffsetFencedException when a range does not begin at its partition's stored next offset
   *     (checked inside the caller's transaction, under the group's row lock); the caller must roll
   *     back
   * @throws OffsetStoreException when the statements fail; the caller must roll back
   * @throws IllegalArgumentException when the connection is in auto-commit mode
   */
  void commit(Connection txConnection, BatchCommit commit);

  /**
   * The highest batch id committed for {@code group}, read on the caller's connection (so inside
   * its transaction, seeing its own uncommitted commit). Blocking.
   */
  OptionalLong lastBatchId(Connection connection, String group);

  /** The committed next offsets of {@code group}, read on the caller's connection. Blocking. */
  Map<TopicPartition, Long> committed(Connection connection, String group);

  /** The DDL of this store's tables, with its schema and table prefix. */
  String ddl();
}

package io.sluice.offsets;

import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class PostgresJdbcOffsetStoreContractTest extends JdbcOffsetStoreContractTest {

  static DataSource postgres;

  @BeforeAll
  static void database(EmbeddedPostgresDatabase db) {
    postgres = db.dataSource();
  }

  @Override
  protected DataSource dataSource() {
    return postgres;
  }

  @Override
  protected OffsetStore newStore() {
    return OffsetStores.jdbcBuilder().dataSource(postgres).schema("contract").build();
  }

  @Override
  protected OffsetStore newStoreKeeping(int batches) {
    return OffsetStores.jdbcBuilder()
        .dataSource(postgres)
        .schema("contract")
        .historyRetention(batches)
        .build();
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.jdbcBuilder()
        .dataSource(postgres)
        .schema("contract")
        .commitHook(
            c -> {
              throw new SQLException("injected failure after the offsets were updated");
            })
        .build();
  }
}

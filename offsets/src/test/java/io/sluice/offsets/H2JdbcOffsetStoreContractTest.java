package io.sluice.offsets;

import java.sql.SQLException;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

class H2JdbcOffsetStoreContractTest extends JdbcOffsetStoreContractTest {

  static final JdbcDataSource H2 = new JdbcDataSource();

  static {
    H2.setURL("jdbc:h2:mem:offsets-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1;LOCK_TIMEOUT=10000");
  }

  @Override
  protected DataSource dataSource() {
    return H2;
  }

  @Override
  protected OffsetStore newStore() {
    return OffsetStores.jdbc(H2);
  }

  @Override
  protected OffsetStore newStoreKeeping(int batches) {
    return OffsetStores.jdbcBuilder().dataSource(H2).historyRetention(batches).build();
  }

  @Override
  protected OffsetStore newStoreFailingMidway() {
    return OffsetStores.jdbcBuilder()
        .dataSource(H2)
        .commitHook(
            c -> {
              throw new SQLException("injected failure after the offsets were updated");
            })
        .build();
  }
}

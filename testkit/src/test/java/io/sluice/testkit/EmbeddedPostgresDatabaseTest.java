package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class EmbeddedPostgresDatabaseTest {

  @Test
  void tableIsCreatedAndRowReadBack(EmbeddedPostgresDatabase pg) throws Exception {
    try (Connection connection = pg.dataSource().getConnection();
        Statement statement = connection.createStatement()) {
      statement.execute("create table sluice_rows (id int primary key, name text not null)");
      statement.execute("insert into sluice_rows values (1, 'first')");
      try (ResultSet rows = statement.executeQuery("select id, name from sluice_rows")) {
        assertThat(rows.next()).isTrue();
        assertThat(rows.getInt("id")).isEqualTo(1);
        assertThat(rows.getString("name")).isEqualTo("first");
        assertThat(rows.next()).isFalse();
      }
    }
  }

  @Test
  void jdbcUrlUserAndPasswordConnect(EmbeddedPostgresDatabase pg) throws Exception {
    assertThat(pg.jdbcUrl()).matches("jdbc:postgresql://127\\.0\\.0\\.1:\\d+/postgres");
    try (Connection connection =
            DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
        Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("select current_user")) {
      assertThat(rows.next()).isTrue();
      assertThat(rows.getString(1)).isEqualTo("postgres");
    }
  }

  @Test
  void closeStopsTheServerAndDeletesItsDirectory() throws Exception {
    ThreadSnapshot threads = ThreadSnapshot.take();
    EmbeddedPostgresDatabase pg = EmbeddedPostgresDatabase.startNew();
    Path dir = pg.directory();
    try (Connection connection = pg.dataSource().getConnection()) {
      assertThat(connection.isValid(5)).isTrue();
    }

    pg.close();
    pg.close();

    assertThat(Files.exists(dir)).isFalse();
    threads.awaitNoNewNonDaemonThreads();
  }
}

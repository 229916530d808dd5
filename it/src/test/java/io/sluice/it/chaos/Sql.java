package io.sluice.it.chaos;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** The few SQL calls the chaos tests make to check what their pipelines wrote. */
final class Sql {

  private Sql() {}

  /** Runs one statement. */
  static void execute(DataSource ds, String statement) throws SQLException {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement()) {
      s.execute(statement);
    }
  }

  /** The first column of the first row of {@code query}, as a long. */
  static long longValue(DataSource ds, String query) {
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(query, e);
    }
  }

  /** The first column of every row of {@code query}, as strings. */
  static List<String> strings(DataSource ds, String query) {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    } catch (SQLException e) {
      throw new IllegalStateException(query, e);
    }
  }
}

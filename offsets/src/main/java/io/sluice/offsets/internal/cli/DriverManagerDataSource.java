package io.sluice.offsets.internal.cli;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A DataSource opening a new connection per call through {@link DriverManager}; enough for the
 * command line.
 */
final class DriverManagerDataSource implements DataSource {

  private final String url;
  private final String user;
  private final String password;
  private int loginTimeoutSeconds;

  DriverManagerDataSource(String url, String user, String password, Duration timeout) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.loginTimeoutSeconds = (int) Math.max(1, timeout.toSeconds());
  }

  @Override
  public Connection getConnection() throws SQLException {
    return getConnection(user, password);
  }

  @Override
  public Connection getConnection(String username, String pass) throws SQLException {
    DriverManager.setLoginTimeout(loginTimeoutSeconds);
    return username == null
        ? DriverManager.getConnection(url)
        : DriverManager.getConnection(url, username, pass);
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {
    // Not used.
  }

  @Override
  public void setLoginTimeout(int seconds) {
    this.loginTimeoutSeconds = seconds;
  }

  @Override
  public int getLoginTimeout() {
    return loginTimeoutSeconds;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException("no java.util.logging here");
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    throw new SQLException("not a wrapper of " + iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return iface.isInstance(this);
  }
}

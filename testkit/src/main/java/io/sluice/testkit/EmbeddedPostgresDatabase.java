package io.sluice.testkit;

import io.sluice.testkit.internal.TempDirs;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A real PostgreSQL server (io.zonky embedded binaries, PostgreSQL 14) running as a child process,
 * with its data directory in a temporary directory that {@link #close()} deletes. Connections use
 * database {@code postgres} and user {@code postgres}; the server trusts local connections, so the
 * password is not checked.
 *
 * <pre>{@code
 * try (EmbeddedPostgresDatabase pg = EmbeddedPostgresDatabase.startNew();
 *      Connection c = pg.dataSource().getConnection()) { ... }
 * }</pre>
 *
 * <p>Lifecycle methods are synchronized. Tests that share one instance must use unique table or
 * schema names.
 */
public final class EmbeddedPostgresDatabase implements AutoCloseable {

  private static final String DATABASE = "postgres";
  private static final String USER = "postgres";
  private static final String PASSWORD = "postgres";

  private enum State {
    NEW,
    RUNNING,
    CLOSED
  }

  private State state = State.NEW;
  private Path dir;
  private EmbeddedPostgres postgres;

  /** An instance that is not started yet; see {@link #start()}. */
  public EmbeddedPostgresDatabase() {}

  /** Creates and starts a server; blocks until it accepts connections (about 4 s). */
  public static EmbeddedPostgresDatabase startNew() {
    return new EmbeddedPostgresDatabase().start();
  }

  /**
   * Starts the server and blocks until it accepts connections. Idempotent while running.
   *
   * @return this instance
   * @throws IllegalStateException if already closed
   * @throws UncheckedIOException if PostgreSQL cannot be unpacked, initialised or started
   */
  public synchronized EmbeddedPostgresDatabase start() {
    if (state == State.RUNNING) {
      return this;
    }
    if (state == State.CLOSED) {
      throw new IllegalStateException(
          "EmbeddedPostgresDatabase is closed and cannot be started again");
    }
    dir = TempDirs.create("sluice-postgres-");
    try {
      postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(dir.resolve("data"))
              .setCleanDataDirectory(true)
              .setServerConfig("listen_addresses", "127.0.0.1")
              .start();
    } catch (IOException e) {
      TempDirs.deleteRecursively(dir);
      throw new UncheckedIOException("cannot start PostgreSQL in " + dir, e);
    } catch (RuntimeException | Error e) {
      TempDirs.deleteRecursively(dir);
      throw e;
    }
    state = State.RUNNING;
    return this;
  }

  /** {@code jdbc:postgresql://127.0.0.1:port/postgres}. */
  public synchronized String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + running().getPort() + "/" + DATABASE;
  }

  /** The user to connect as, {@code postgres} (a superuser). */
  public String user() {
    return USER;
  }

  /** A password to pass along; the server does not check it. */
  public String password() {
    return PASSWORD;
  }

  /**
   * A new non-pooling DataSource for {@link #jdbcUrl()}, {@link #user()} and {@link #password()}.
   */
  public synchronized DataSource dataSource() {
    PGSimpleDataSource dataSource = new PGSimpleDataSource();
    dataSource.setServerNames(new String[] {"127.0.0.1"});
    dataSource.setPortNumbers(new int[] {running().getPort()});
    dataSource.setDatabaseName(DATABASE);
    dataSource.setUser(USER);
    dataSource.setPassword(PASSWORD);
    return dataSource;
  }

  /** Stops the server (fast shutdown) and deletes its data directory. Idempotent. */
  @Override
  public synchronized void close() {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    try {
      if (postgres != null) {
        postgres.close();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stop PostgreSQL", e);
    } finally {
      postgres = null;
      TempDirs.deleteRecursively(dir);
    }
  }

  /** The data directory, for the testkit's own tests; null before start. */
  synchronized Path directory() {
    return dir;
  }

  private EmbeddedPostgres running() {
    if (state != State.RUNNING) {
      throw new IllegalStateException(
          "EmbeddedPostgresDatabase is not running (state " + state + ")");
    }
    return postgres;
  }
}

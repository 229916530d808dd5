package io.sluice.sinks;

/**
 * Static factories for the sinks, for discovery; each sink type also has its own {@code builder()}.
 */
public final class Sinks {

  private Sinks() {}

  /** Prints the first 10 records of every batch to {@code System.out}. */
  public static <T> ConsoleSink<T> console() {
    return ConsoleSink.create(10);
  }

  /** Prints the first {@code n} records of every batch to {@code System.out}. */
  public static <T> ConsoleSink<T> console(int n) {
    return ConsoleSink.create(n);
  }

  /** A builder of a JDBC sink ({@link JdbcSink}). */
  public static <T> JdbcSink.Builder<T> jdbc() {
    return JdbcSink.builder();
  }

  /** A builder of a Kafka sink ({@link KafkaSink}). */
  public static <T> KafkaSink.Builder<T> kafka() {
    return KafkaSink.builder();
  }

  /** A builder of a file sink ({@link FileSink}). */
  public static <T> FileSink.Builder<T> files() {
    return FileSink.builder();
  }
}

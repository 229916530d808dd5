package io.sluice.sinks;

/**
 * Static factories for the sinks, for discovery. They follow the rule {@link
 * io.sluice.offsets.OffsetStores} follows: a factory named after the sink returns a finished sink
 * with defaults ({@link #console()}), and {@code <name>Builder()} returns a builder whose {@code
 * build()} validates the settings. Each sink type also has its own {@code builder()} (or {@code
 * create(...)}).
 */
public final class Sinks {

  private Sinks() {}

  /** A finished sink printing the first 10 records of every batch to {@code System.out}. */
  public static <T> ConsoleSink<T> console() {
    return ConsoleSink.create(10);
  }

  /**
   * A finished sink printing the first {@code n} records of every batch to {@code System.out}.
   *
   * @throws IllegalArgumentException if {@code n <= 0}
   */
  public static <T> ConsoleSink<T> console(int n) {
    return ConsoleSink.create(n);
  }

  /** A builder of a JDBC sink; the same as {@link JdbcSink#builder()}. */
  public static <T> JdbcSink.Builder<T> jdbcBuilder() {
    return JdbcSink.builder();
  }

  /** A builder of a Kafka sink; the same as {@link KafkaSink#builder()}. */
  public static <T> KafkaSink.Builder<T> kafkaBuilder() {
    return KafkaSink.builder();
  }

  /** A builder of a file sink; the same as {@link FileSink#builder()}. */
  public static <T> FileSink.Builder<T> fileBuilder() {
    return FileSink.builder();
  }
}

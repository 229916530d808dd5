package io.sluice.examples;

import picocli.CommandLine.Option;

/** Where the examples find Kafka and PostgreSQL; both default to servers started in-process. */
public final class ServerOptions {

  @Option(
      names = "--bootstrap-servers",
      paramLabel = "HOST:PORT",
      description = "Kafka brokers to use instead of an embedded broker started in this JVM.")
  String bootstrapServers;

  @Option(
      names = "--jdbc-url",
      paramLabel = "URL",
      description =
          "PostgreSQL JDBC URL to use instead of an embedded PostgreSQL, e.g. jdbc:postgresql://localhost/app.")
  String jdbcUrl;

  @Option(names = "--jdbc-user", paramLabel = "USER", description = "Database user for --jdbc-url.")
  String jdbcUser;

  @Option(
      names = "--jdbc-password",
      paramLabel = "PASSWORD",
      description = "Database password for --jdbc-url.")
  String jdbcPassword;

  /** Creates options with every server embedded. */
  public ServerOptions() {}
}

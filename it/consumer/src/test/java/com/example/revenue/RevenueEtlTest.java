package com.example.revenue;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.offsets.JdbcOffsetStore;
import io.sluice.offsets.OffsetStores;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs {@link RevenueEtl} on the embedded Kafka broker and PostgreSQL of {@code sluice-testkit}, in
 * a separate JVM whose class path is the application's run-time class path only (no test
 * dependencies), and checks the table and the offset store exactly.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class RevenueEtlTest {

  private static final List<String> PRODUCTS = List.of("apple", "banana", "cherry", "date");

  @Test
  void sumsRevenuePerProductExactlyOnceIntoPostgres(
      EmbeddedKafka kafka, EmbeddedPostgresDatabase db, @TempDir Path tmp) throws Exception {
    String id = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    String topic = "orders-" + id;
    String group = "revenue-" + id;
    String table = "revenue_" + id;
    kafka.createTopic(topic, 3);

    int records = 3_000;
    List<ProducerRecord<String, String>> orders = new ArrayList<>();
    Map<String, Long> expected = new TreeMap<>();
    for (int i = 0; i < records; i++) {
      String product = PRODUCTS.get(i % PRODUCTS.size());
      long cents = 1 + (i * 37L) % 1_000;
      orders.add(new ProducerRecord<>(topic, product + "-" + i, product + "," + cents));
      expected.merge(product, cents, Long::sum);
    }
    kafka.produce(orders);

    Path out = tmp.resolve("stdout.txt");
    Path err = tmp.resolve("stderr.txt");
    String classpath =
        System.getProperty("revenue.classpath")
            + File.pathSeparator
            + Files.readString(Path.of(System.getProperty("revenue.runtimeClasspathFile"))).strip();
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-cp",
            classpath,
            RevenueEtl.class.getName(),
            kafka.bootstrapServers(),
            topic,
            group,
            db.jdbcUrl(),
            db.user(),
            db.password(),
            table,
            tmp.resolve("checkpoint").toString(),
            Integer.toString(records));
    Process app =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    int exit;
    try {
      assertThat(app.waitFor(3, TimeUnit.MINUTES)).as("the pipeline finished in time").isTrue();
      exit = app.exitValue();
    } finally {
      app.destroyForcibly();
    }
    String output = Files.readString(out, StandardCharsets.UTF_8);
    assertThat(exit)
        .as(
            "exit code of the pipeline; stdout:%n%s%nstderr:%n%s",
            output, Files.readString(err, StandardCharsets.UTF_8))
        .isZero();
    assertThat(output).contains("DONE " + records);

    assertThat(revenue(db, table)).isEqualTo(expected);
    try (JdbcOffsetStore store = OffsetStores.jdbc(db.dataSource())) {
      Map<TopicPartition, Long> end = kafka.endOffsets(topic);
      assertThat(store.committed(group)).isEqualTo(end);
    }
    System.out.println("revenue per product in PostgreSQL: " + revenue(db, table));
  }

  private static Map<String, Long> revenue(EmbeddedPostgresDatabase db, String table)
      throws Exception {
    Map<String, Long> rows = new TreeMap<>();
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT product, cents FROM " + table)) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getLong(2));
      }
    }
    return rows;
  }
}

package io.sluice.status;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.ProducerRecord;

/** HTTP and data helpers for the status tests. */
final class StatusTestSupport {

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private StatusTestSupport() {}

  static String topic(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  static List<ProducerRecord<String, String>> records(String topic, int partition, int n) {
    List<ProducerRecord<String, String>> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new ProducerRecord<>(topic, partition, "k-" + i, "v-" + partition + "-" + i));
    }
    return out;
  }

  static HttpResponse<String> get(URI uri) {
    return send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build());
  }

  static HttpResponse<String> get(URI uri, String bearer) {
    return send(
        HttpRequest.newBuilder(uri)
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", "Bearer " + bearer)
            .GET()
            .build());
  }

  static HttpResponse<String> send(HttpRequest request) {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * The value of the Prometheus sample {@code name} whose labels include every {@code label=value}
   * pair given, or fails when there is not exactly one.
   */
  static double sample(String scrape, String name, String... labels) {
    Pattern line =
        Pattern.compile("^" + Pattern.quote(name) + "\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(scrape);
    List<Double> found = new ArrayList<>();
    while (m.find()) {
      String set = "," + m.group(1) + ",";
      boolean all = true;
      for (int i = 0; i < labels.length; i += 2) {
        if (!set.contains("," + labels[i] + "=\"" + labels[i + 1] + "\",")) {
          all = false;
        }
      }
      if (all) {
        found.add(Double.parseDouble(m.group(2)));
      }
    }
    if (found.size() != 1) {
      throw new AssertionError(
          "expected one sample "
              + name
              + " "
              + List.of(labels)
              + ", found "
              + found
              + " in\n"
              + scrape);
    }
    return found.get(0);
  }
}

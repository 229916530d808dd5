package io.sluice.sinks.internal;

import io.sluice.sinks.SinkException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Checks a sink's {@code transaction.timeout.ms} against the broker's maximum and the batch
 * interval.
 */
final class TransactionTimeoutCheck {

  static final String BROKER_MAX = "transaction.max.timeout.ms";

  private TransactionTimeoutCheck() {}

  /**
   * Refuses a timeout the broker would reject or a batch could outlive.
   *
   * @throws IllegalStateException naming both settings and values
   */
  static void check(
      String sink,
      long transactionTimeoutMs,
      Duration batchInterval,
      Admin admin,
      Duration timeout) {
    long brokerMax = brokerMax(admin, timeout);
    if (transactionTimeoutMs > brokerMax) {
      throw new IllegalStateException(
          sink
              + ": transaction.timeout.ms is "
              + transactionTimeoutMs
              + " ms, above the broker's "
              + BROKER_MAX
              + " of "
              + brokerMax
              + " ms: lower the sink's"
              + " transactionTimeout or raise "
              + BROKER_MAX
              + " on the brokers");
    }
    if (transactionTimeoutMs <= batchInterval.toMillis()) {
      throw new IllegalStateException(
          sink
              + ": transaction.timeout.ms is "
              + transactionTimeoutMs
              + " ms, not above the batch interval of "
              + batchInterval.toMillis()
              + " ms: a batch's"
              + " transaction would be aborted by the broker before it commits; raise transactionTimeout");
    }
  }

  private static long brokerMax(Admin admin, Duration timeout) {
    try {
      Collection<Node> nodes =
          admin.describeCluster().nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (nodes.isEmpty()) {
        throw new SinkException("the cluster reports no broker to read " + BROKER_MAX + " from");
      }
      ConfigResource broker =
          new ConfigResource(
              ConfigResource.Type.BROKER, Integer.toString(nodes.iterator().next().id()));
      Config config =
          admin
              .describeConfigs(List.of(broker))
              .all()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .get(broker);
      ConfigEntry entry = config.get(BROKER_MAX);
      if (entry == null || entry.value() == null) {
        throw new SinkException("broker " + broker.name() + " does not report " + BROKER_MAX);
      }
      return Long.parseLong(entry.value());
    } catch (ExecutionException e) {
      throw new SinkException(
          "cannot read " + BROKER_MAX + " from the broker: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SinkException("interrupted while reading " + BROKER_MAX, e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new SinkException(
          "cannot read "
              + BROKER_MAX
              + ": no answer within "
              + timeout.toMillis()
              + " ms (is the broker reachable?)",
          e);
    }
  }
}

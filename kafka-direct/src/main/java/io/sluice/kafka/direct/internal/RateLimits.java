package io.sluice.kafka.direct.internal;

import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.apache.kafka.common.TopicPartition;

/**
 * How many offsets each partition may advance in one batch. Pure arithmetic, no Kafka calls.
 *
 * <p>With a total rate (the backpressure estimate, or the initial rate), the batch budget {@code
 * rate × interval} is split across partitions in proportion to their lag, each partition with lag
 * getting at least {@code minRatePerPartition × interval} and at least one offset, so none starves.
 * {@code maxRatePerPartition × interval} caps every partition. No limit reads the lag.
 */
public final class RateLimits {

  private RateLimits() {}

  /**
   * The number of offsets each partition of {@code lag} advances this batch, each in {@code [0,
   * lag]}.
   *
   * @param lag offsets available per partition, >= 0
   * @param intervalMillis the batch interval
   * @param maxRatePerPartition records/s cap per partition, or empty
   * @param minRatePerPartition records/s floor per partition with lag (used with a total rate)
   * @param totalRate the total records/s for this batch, or empty for no total limit
   */
  public static Map<TopicPartition, Long> split(
      Map<TopicPartition, Long> lag,
      long intervalMillis,
      OptionalLong maxRatePerPartition,
      long minRatePerPartition,
      OptionalLong totalRate) {
    long cap =
        maxRatePerPartition.isPresent()
            ? Math.max(1, perBatch(maxRatePerPartition.getAsLong(), intervalMillis))
            : Long.MAX_VALUE;
    long totalLag = 0;
    for (long l : lag.values()) {
      totalLag += l;
    }
    double budget =
        totalRate.isPresent() ? (double) totalRate.getAsLong() * intervalMillis / 1000.0 : -1;
    long floor = Math.max(1, perBatch(minRatePerPartition, intervalMillis));
    Map<TopicPartition, Long> out = new HashMap<>();
    for (Map.Entry<TopicPartition, Long> e : lag.entrySet()) {
      long l = e.getValue();
      long limit = cap;
      if (budget >= 0 && totalLag > 0) {
        long share = (long) Math.floor(budget * l / totalLag);
        limit = Math.min(cap, Math.max(floor, share));
      }
      out.put(e.getKey(), Math.max(0, Math.min(l, limit)));
    }
    return out;
  }

  private static long perBatch(long ratePerSecond, long intervalMillis) {
    try {
      return Math.multiplyExact(ratePerSecond, intervalMillis) / 1000;
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }
}

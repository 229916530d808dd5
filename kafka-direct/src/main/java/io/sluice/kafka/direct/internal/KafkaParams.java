package io.sluice.kafka.direct.internal;

import io.sluice.kafka.direct.ErrorPolicy;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/** Derives the configurations of the clients a stream owns from the user's Kafka parameters. */
public final class KafkaParams {

  /**
   * The dead-letter producer's {@code max.block.ms} unless the policy's producer settings name one.
   */
  public static final Duration DEAD_LETTER_MAX_BLOCK = Duration.ofSeconds(5);

  private KafkaParams() {}

  /** The {@code bootstrap.servers} setting as text, for messages. */
  public static String bootstrapServers(Map<String, ?> config) {
    Object servers = config.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    if (servers instanceof Collection<?> list) {
      return list.stream().map(String::valueOf).collect(Collectors.joining(","));
    }
    return String.valueOf(servers);
  }

  /**
   * The configuration of a short-lived Admin client for the cluster of {@code clientConfig} (a
   * consumer's or producer's settings, of which the Admin ones are kept) whose every call gives up
   * after {@code timeout}, so that closing it never waits for Kafka's 60 s default either.
   */
  public static Map<String, Object> boundedAdmin(Map<String, ?> clientConfig, Duration timeout) {
    Map<String, Object> c = new HashMap<>();
    clientConfig.forEach(
        (k, v) -> {
          if (AdminClientConfig.configNames().contains(k)) {
            c.put(k, v);
          }
        });
    int ms = (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    c.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
    c.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
    return c;
  }

  /**
   * A task consumer: {@code ByteBuffer} views in, never joins a group (no {@code group.id}), never
   * commits, and fails on out-of-range offsets instead of silently resetting.
   */
  public static Map<String, Object> taskConsumer(Map<String, Object> params) {
    Map<String, Object> c = bytesConsumer(params);
    // Views into the fetched buffers: the user's deserializer decodes them without a copy.
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteBufferDeserializer.class);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    return c;
  }

  /**
   * A task consumer that deserializes with the user's {@code key.deserializer} and {@code
   * value.deserializer} when {@code deserialize} (see {@link #consumerCanDeserialize}), else {@link
   * #taskConsumer(Map)}.
   */
  public static Map<String, Object> taskConsumer(Map<String, Object> params, boolean deserialize) {
    Map<String, Object> c = taskConsumer(params);
    if (deserialize) {
      c.put(
          ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
          params.get(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG));
      c.put(
          ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
          params.get(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG));
    }
    return c;
  }

  /**
   * Whether task consumers may deserialize themselves instead of handing {@code ByteBuffer} views
   * to a {@link RecordDecoder}, which saves a second record per record: under the fail policy (a
   * bad record fails the task either way, named by topic, partition and offset) and the skip policy
   * (the consumer stops at a bad record, which is counted and read past; see {@link
   * PartitionReader}), not under the dead-letter policy (a letter holds the record's bytes as
   * read), and when both deserializers are given as loadable {@code Deserializer} classes or class
   * names. An instance would be shared by every consumer and closed with the first; anything else
   * is left to the decoder, which reports it as before.
   */
  public static boolean consumerCanDeserialize(Map<String, Object> params, ErrorPolicy policy) {
    return (policy instanceof ErrorPolicy.Fail || policy instanceof ErrorPolicy.Skip)
        && isDeserializerClass(params.get(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG))
        && isDeserializerClass(params.get(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG));
  }

  private static boolean isDeserializerClass(Object setting) {
    Class<?> type;
    if (setting instanceof Class<?> c) {
      type = c;
    } else if (setting instanceof String name) {
      ClassLoader cl = Thread.currentThread().getContextClassLoader();
      try {
        type =
            Class.forName(name.trim(), false, cl != null ? cl : KafkaParams.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        return false;
      }
    } else {
      return false;
    }
    return Deserializer.class.isAssignableFrom(type);
  }

  /**
   * The driver's planning consumer: keeps {@code group.id} so it can read and commit the group's
   * offsets, but is only ever used with explicit partitions, so it never joins the group.
   */
  public static Map<String, Object> driverConsumer(Map<String, Object> params) {
    Map<String, Object> c = bytesConsumer(params);
    c.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    return c;
  }

  /**
   * A group-mode member: joins the group and reads no record. Cooperative-sticky assignment unless
   * the parameters choose an assignor, or the KIP-848 protocol ({@code group.protocol=consumer},
   * whose assignment the broker computes).
   */
  public static Map<String, Object> memberConsumer(Map<String, Object> params) {
    Map<String, Object> c = bytesConsumer(params);
    Object protocol = params.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
    boolean consumerProtocol =
        protocol != null && protocol.toString().trim().equalsIgnoreCase("consumer");
    if (!consumerProtocol
        && !params.containsKey(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG)) {
      c.put(
          ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
          CooperativeStickyAssignor.class.getName());
    }
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
    // Its partitions stay paused, so it fetches nothing, but the consumer still looks up a
    // position for each; "none" would fail on a partition the group never committed.
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    return c;
  }

  /** The member's {@code max.poll.interval.ms}: how long a rebalance may wait for it. */
  public static Duration rebalanceTimeout(Map<String, Object> params) {
    Object v = params.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG);
    return Duration.ofMillis(v == null ? 300_000 : Long.parseLong(v.toString().trim()));
  }

  private static Map<String, Object> bytesConsumer(Map<String, Object> params) {
    Map<String, Object> c = new HashMap<>(params);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
    return c;
  }

  /**
   * A dead-letter producer: the cluster and security settings of the stream, bytes out, idempotent,
   * waiting at most {@link #DEAD_LETTER_MAX_BLOCK} in {@code send} for metadata or buffer space;
   * {@code extra} (the policy's producer settings) overrides any of these but the serializers.
   */
  public static Map<String, Object> deadLetterProducer(
      Map<String, Object> params, Map<String, Object> extra) {
    Map<String, Object> p = new HashMap<>();
    params.forEach(
        (k, v) -> {
          if (k.equals("bootstrap.servers")
              || k.startsWith("security.")
              || k.startsWith("ssl.")
              || k.startsWith("sasl.")
              || k.equals("client.dns.lookup")) {
            p.put(k, v);
          }
        });
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    // Kafka's 60 s default held a task that long per bad record when the topic was missing.
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) DEAD_LETTER_MAX_BLOCK.toMillis());
    p.putAll(extra);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return p;
  }

  /** The {@code group.id}, or null. */
  public static String group(Map<String, Object> params) {
    Object g = params.get(ConsumerConfig.GROUP_ID_CONFIG);
    return g == null || g.toString().isBlank() ? null : g.toString();
  }

  /** Whether {@code auto.offset.reset} asks for the latest offset when a group has no commit. */
  public static boolean resetToLatest(Map<String, Object> params) {
    Object v = params.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG);
    return v != null && v.toString().trim().toLowerCase(Locale.ROOT).equals("latest");
  }
}

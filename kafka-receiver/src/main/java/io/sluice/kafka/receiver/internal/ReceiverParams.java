package io.sluice.kafka.receiver.internal;

import java.lang.reflect.InvocationTargetException;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * A Kafka receiver's topics and Kafka parameters, validated once when the stream is created: every
 * error names the setting and its value. Derives the receiver's own consumer configuration (bytes
 * in, no auto-commit, cooperative-sticky assignment) and creates the user's deserializers for the
 * tasks. Immutable.
 */
public final class ReceiverParams {

  private static final String COOPERATIVE_STICKY = CooperativeStickyAssignor.class.getName();

  private final List<String> topics;
  private final Map<String, Object> params;
  private final String group;

  private ReceiverParams(List<String> topics, Map<String, Object> params, String group) {
    this.topics = topics;
    this.params = params;
    this.group = group;
  }

  /**
   * Validates {@code topics} and {@code kafkaParams}: at least one topic, none blank; {@code
   * bootstrap.servers} and {@code group.id} set; {@code enable.auto.commit} absent or false (the
   * receiver commits itself, after storing); {@code key.deserializer} and {@code
   * value.deserializer} given as {@code Deserializer} classes or class names with a public no-arg
   * constructor; and every other setting as the Kafka consumer would check it.
   *
   * @throws IllegalArgumentException naming the first bad setting and its value
   */
  public static ReceiverParams validate(
      Collection<String> topics, Map<String, Object> kafkaParams) {
    Objects.requireNonNull(topics, "topics must not be null");
    Objects.requireNonNull(kafkaParams, "kafkaParams must not be null");
    Set<String> names = new LinkedHashSet<>();
    for (String t : topics) {
      if (t == null || t.isBlank()) {
        throw new IllegalArgumentException("topics must not hold a blank name, were " + topics);
      }
      names.add(t);
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException("topics must name at least one topic, were empty");
    }
    Map<String, Object> params = new HashMap<>();
    kafkaParams.forEach(
        (k, v) -> {
          if (v == null) {
            throw new IllegalArgumentException("kafkaParams " + k + " must not be null");
          }
          params.put(k, v);
        });
    Object servers = params.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
    if (servers == null || servers.toString().isBlank()) {
      throw new IllegalArgumentException(
          "kafkaParams must set bootstrap.servers, were " + new TreeSet<>(params.keySet()));
    }
    Object group = params.get(ConsumerConfig.GROUP_ID_CONFIG);
    if (group == null || group.toString().isBlank()) {
      throw new IllegalArgumentException(
          "kafkaParams must set group.id: a Kafka receiver is a member of a consumer group, whose"
              + " offsets it commits; was "
              + (group == null ? "unset" : "'" + group + "'"));
    }
    Object autoCommit = params.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG);
    if (autoCommit != null && !autoCommit.toString().trim().equalsIgnoreCase("false")) {
      throw new IllegalArgumentException(
          "kafkaParams enable.auto.commit must be false or unset, was "
              + autoCommit
              + ": the receiver commits the offsets of what it stored, after storing it; the"
              + " consumer's auto-commit would commit records before they are stored");
    }
    ReceiverParams p = new ReceiverParams(List.copyOf(names), Map.copyOf(params), group.toString());
    p.newDeserializer(true).close();
    p.newDeserializer(false).close();
    try {
      new ConsumerConfig(p.consumerConfig(), false) {};
    } catch (ConfigException e) {
      throw new IllegalArgumentException("kafkaParams: " + e.getMessage(), e);
    }
    return p;
  }

  /** The subscribed topics, without duplicates, in the order given. */
  public List<String> topics() {
    return topics;
  }

  /** The consumer group ({@code group.id}). */
  public String group() {
    return group;
  }

  /** The bootstrap servers as given, for messages and for recognising the cluster. */
  public Object bootstrapServers() {
    return params.get(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG);
  }

  /**
   * Where a partition without a committed offset starts: {@code auto.offset.reset} lower-cased,
   * Kafka's default {@code latest} when unset.
   */
  public String autoOffsetReset() {
    Object v = params.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG);
    return v == null ? "latest" : v.toString().trim().toLowerCase(Locale.ROOT);
  }

  /**
   * The receiver's consumer: the user's settings with bytes in, {@code enable.auto.commit=false}
   * and, under the classic group protocol and unless the user names another, the {@link
   * CooperativeStickyAssignor}.
   */
  public Map<String, Object> consumerConfig() {
    Map<String, Object> c = new HashMap<>(params);
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Object protocol = params.get(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
    boolean classic = protocol == null || protocol.toString().trim().equalsIgnoreCase("classic");
    if (classic) {
      c.putIfAbsent(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, COOPERATIVE_STICKY);
    }
    return c;
  }

  /**
   * A new, configured instance of the user's key ({@code isKey}) or value deserializer; the caller
   * closes it.
   *
   * @throws IllegalArgumentException when the setting does not name a usable {@code Deserializer}
   */
  @SuppressWarnings("unchecked")
  public <T> Deserializer<T> newDeserializer(boolean isKey) {
    String setting =
        isKey
            ? ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG
            : ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG;
    Object value = params.get(setting);
    Class<?> type;
    if (value instanceof Class<?> c) {
      type = c;
    } else if (value instanceof String name && !name.isBlank()) {
      try {
        type = Class.forName(name.trim(), true, classLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        throw new IllegalArgumentException(
            "kafkaParams " + setting + " names a class that cannot be loaded: " + name, e);
      }
    } else {
      throw new IllegalArgumentException(
          "kafkaParams "
              + setting
              + " must be a Deserializer class or class name (the tasks create one per partition"
              + " they decode; an instance would be shared by concurrent tasks), was "
              + (value == null ? "unset" : value.getClass().getName() + " " + value));
    }
    if (!Deserializer.class.isAssignableFrom(type)) {
      throw new IllegalArgumentException(
          "kafkaParams "
              + setting
              + " must implement "
              + Deserializer.class.getName()
              + ", was "
              + type.getName());
    }
    Deserializer<T> d;
    try {
      d = (Deserializer<T>) type.getDeclaredConstructor().newInstance();
    } catch (NoSuchMethodException
        | InstantiationException
        | IllegalAccessException
        | InvocationTargetException e) {
      throw new IllegalArgumentException(
          "kafkaParams "
              + setting
              + " "
              + type.getName()
              + " cannot be created with a public no-arg constructor: "
              + e,
          e);
    }
    d.configure(params, isKey);
    return d;
  }

  private static ClassLoader classLoader() {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    return cl != null ? cl : ReceiverParams.class.getClassLoader();
  }

  /** The topics as one string, for names and messages. */
  public String topicList() {
    return String.join(",", topics);
  }
}

package io.sluice.kafka.direct;

import java.util.Map;
import java.util.Objects;

/**
 * What a direct stream does with a record whose key or value cannot be deserialized (a poison
 * pill). Applied in the task that reads the record; never silently loses a record.
 */
public sealed interface ErrorPolicy {

  /**
   * Fail the task, and so the batch, with a {@link BadRecordException} naming topic, partition and
   * offset. The default.
   */
  static ErrorPolicy fail() {
    return new Fail();
  }

  /** Drop the record, log it at WARN and count it in {@code sluice.kafka.bad.records}. */
  static ErrorPolicy skip() {
    return new Skip();
  }

  /**
   * Send the record's raw key and value bytes and original headers to {@code topic}, with headers
   * {@code sluice.dlq.topic}, {@code .partition}, {@code .offset}, {@code .exception.class} and
   * {@code .exception.message} added. The producer uses the stream's {@code bootstrap.servers} and
   * security settings. A task completes only after its dead letters are acknowledged.
   *
   * <p>The context's {@code start()} fails with a {@link StreamStartException} when the topic does
   * not exist (unless the cluster creates topics on first use). A send waits at most 5 s for the
   * topic's metadata ({@code max.block.ms}, unless the producer settings set it); a topic deleted
   * after start then fails the batch at once, without task retries.
   */
  static ErrorPolicy deadLetter(String topic) {
    return new DeadLetter(topic, Map.of());
  }

  /**
   * Like {@link #deadLetter(String)}, with extra producer settings (e.g. another cluster's {@code
   * bootstrap.servers}).
   */
  static ErrorPolicy deadLetter(String topic, Map<String, Object> producerConfig) {
    return new DeadLetter(topic, producerConfig);
  }

  /** See {@link ErrorPolicy#fail()}. */
  record Fail() implements ErrorPolicy {}

  /** See {@link ErrorPolicy#skip()}. */
  record Skip() implements ErrorPolicy {}

  /**
   * See {@link ErrorPolicy#deadLetter(String, Map)}.
   *
   * @param topic the dead-letter topic
   * @param producerConfig producer settings added to those derived from the stream
   */
  record DeadLetter(String topic, Map<String, Object> producerConfig) implements ErrorPolicy {
    /** Validates the topic and copies the settings. */
    public DeadLetter {
      Objects.requireNonNull(topic, "dead-letter topic must not be null");
      if (topic.isBlank()) {
        throw new IllegalArgumentException(
            "dead-letter topic must not be blank, was '" + topic + "'");
      }
      producerConfig =
          Map.copyOf(Objects.requireNonNull(producerConfig, "producerConfig must not be null"));
    }
  }
}

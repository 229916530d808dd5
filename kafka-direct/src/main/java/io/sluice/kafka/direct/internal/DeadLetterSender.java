package io.sluice.kafka.direct.internal;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Sends bad records to a dead-letter topic with one producer shared by the stream's tasks (Kafka's
 * producer is thread-safe). The producer is created on first use and closed by {@link #close()}.
 */
public final class DeadLetterSender implements AutoCloseable {

  /** Header names added to every dead letter. */
  public static final String H_TOPIC = "sluice.dlq.topic";
  /** The source partition header. */
  public static final String H_PARTITION = "sluice.dlq.partition";
  /** The source offset header. */
  public static final String H_OFFSET = "sluice.dlq.offset";
  /** The exception class header. */
  public static final String H_EXCEPTION_CLASS = "sluice.dlq.exception.class";
  /** The exception message header. */
  public static final String H_EXCEPTION_MESSAGE = "sluice.dlq.exception.message";

  private final String topic;
  private final Map<String, Object> producerConfig;
  private Producer<byte[], byte[]> producer;
  private boolean closed;

  /** Creates the sender; nothing connects before the first dead letter. */
  public DeadLetterSender(String topic, Map<String, Object> producerConfig) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.producerConfig = Map.copyOf(producerConfig);
  }

  /** The dead-letter topic. */
  public String topic() {
    return topic;
  }

  /** Sends {@code raw} with its original headers plus the error headers. Non-blocking. */
  public Future<RecordMetadata> send(ConsumerRecord<ByteBuffer, ByteBuffer> raw, Throwable error) {
    Headers headers = new RecordHeaders(raw.headers().toArray());
    headers.add(H_TOPIC, utf8(raw.topic()));
    headers.add(H_PARTITION, utf8(Integer.toString(raw.partition())));
    headers.add(H_OFFSET, utf8(Long.toString(raw.offset())));
    headers.add(H_EXCEPTION_CLASS, utf8(error.getClass().getName()));
    headers.add(H_EXCEPTION_MESSAGE, utf8(String.valueOf(error.getMessage())));
    return producer().send(new ProducerRecord<>(topic, null, raw.timestamp(), bytes(raw.key()), bytes(raw.value()), headers));
  }

  private static byte[] bytes(ByteBuffer b) {
    if (b == null) {
      return null;
    }
    byte[] out = new byte[b.remaining()];
    b.get(b.position(), out);
    return out;
  }

  /** Blocks until every dead letter sent so far is acknowledged or failed. */
  public void flush() {
    Producer<byte[], byte[]> p;
    synchronized (this) {
      p = producer;
    }
    if (p != null) {
      p.flush();
    }
  }

  private synchronized Producer<byte[], byte[]> producer() {
    if (closed) {
      throw new IllegalStateException("the dead-letter producer for " + topic + " is closed (the stream stopped)");
    }
    if (producer == null) {
      producer = new KafkaProducer<>(producerConfig);
    }
    return producer;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Flushes and closes the producer; idempotent. */
  @Override
  public void close() {
    Producer<byte[], byte[]> p;
    synchronized (this) {
      closed = true;
      p = producer;
      producer = null;
    }
    if (p != null) {
      p.close(Duration.ofSeconds(10));
    }
  }
}

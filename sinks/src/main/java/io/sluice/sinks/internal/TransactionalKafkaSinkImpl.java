package io.sluice.sinks.internal;

import io.sluice.sinks.TransactionalKafkaSink;

/**
 * The exactly-once Kafka sink: {@link KafkaSinkImpl} (the one implementation of both guarantees)
 * under the type that says it is transactional, so that an at-least-once sink is not one.
 *
 * @param <T> record type
 */
public final class TransactionalKafkaSinkImpl<T> extends KafkaSinkImpl<T>
    implements TransactionalKafkaSink<T> {

  /** Creates the sink from validated exactly-once settings; connects at {@code open}. */
  public TransactionalKafkaSinkImpl(Settings<T> settings) {
    super(settings);
    if (!settings.exactlyOnce()) {
      throw new IllegalArgumentException("settings must be exactly-once, were at-least-once");
    }
  }
}

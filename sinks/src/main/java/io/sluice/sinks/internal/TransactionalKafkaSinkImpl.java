package io.sluice.sinks.internal;

import io.sluice.offsets.DeadLetterTransaction;
import io.sluice.sinks.TransactionalKafkaSink;

/**
 * The exactly-once Kafka sink: {@link KafkaSinkImpl} (the one implementation of both guarantees)
 * under the type that says it is transactional, so that an at-least-once sink is not one.
 *
 * @param <T> record type
 */
public final class TransactionalKafkaSinkImpl<T> extends KafkaSinkImpl<T>
    implements TransactionalKafkaSink<T>, DeadLetterTransaction {

  /** Creates the sink from validated exactly-once settings; connects at {@code open}. */
  public TransactionalKafkaSinkImpl(Settings<T> settings) {
    super(settings);
    if (!settings.exactlyOnce()) {
      throw new IllegalArgumentException("settings must be exactly-once, were at-least-once");
    }
  }

  /** Only for a dead-letter topic on the sink's own cluster. */
  @Override
  public boolean acceptsDeadLettersFor(String clusterKey) {
    return offsetCommitTarget().map(t -> t.identity().equals(clusterKey)).orElse(false);
  }

  @Override
  public void addDeadLetterSource(DeadLetterTransaction.Source source) {
    deadLetters.add(source);
  }
}

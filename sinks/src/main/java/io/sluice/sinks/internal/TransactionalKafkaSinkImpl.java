package io.sluice.sinks.internal;

import io.sluice.offsets.DeadLetterTransaction;
import io.sluice.offsets.GroupMemberCommits;
import io.sluice.sinks.TransactionalKafkaSink;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;

/**
 * The exactly-once Kafka sink: {@link KafkaSinkImpl} (the one implementation of both guarantees)
 * under the type that says it is transactional, so that an at-least-once sink is not one.
 *
 * @param <T> record type
 */
public final class TransactionalKafkaSinkImpl<T> extends KafkaSinkImpl<T>
    implements TransactionalKafkaSink<T>, DeadLetterTransaction, GroupMemberCommits {

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

  /**
   * The transactional id becomes {@code <appName>-<name>-<memberKey>}, and the group's offsets go
   * with the member's metadata.
   */
  @Override
  public synchronized void commitAsMemberOf(
      String group, String memberKey, Supplier<ConsumerGroupMetadata> metadata) {
    if (this.memberKey != null && !this.memberKey.equals(memberKey)) {
      throw new IllegalStateException(
          describe()
              + " already commits as member '"
              + this.memberKey
              + "', cannot also commit as '"
              + memberKey
              + "' for group '"
              + group
              + "'");
    }
    this.memberKey = memberKey;
    members.put(group, metadata);
  }
}

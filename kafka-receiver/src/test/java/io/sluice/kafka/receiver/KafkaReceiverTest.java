package io.sluice.kafka.receiver;

import static io.sluice.kafka.receiver.ReceiverHarness.WAIT;
import static io.sluice.kafka.receiver.ReceiverHarness.groupOffsets;
import static io.sluice.kafka.receiver.ReceiverHarness.params;
import static io.sluice.kafka.receiver.ReceiverHarness.produce;
import static io.sluice.kafka.receiver.ReceiverHarness.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchFailedException;
import io.sluice.engine.TerminalException;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.IntegerDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The plain Kafka receiver against a real broker. */
@ExtendWith(EmbeddedKafkaExtension.class)
class KafkaReceiverTest {

  @Test
  void everyRecordArrivesOnceAndTheGroupCommitsThePositionsOfWhatWasStored(EmbeddedKafka kafka) {
    String topic = unique("plain");
    String group = unique("plain-group");
    kafka.createTopic(topic, 3);
    List<String> expected = produce(kafka, topic, 3, 0, 60, "v", false);

    try (ReceiverHarness h = new ReceiverHarness(null, false, 0)) {
      h.collect(KafkaReceivers.create(h.ctx, List.of(topic), params(kafka, group)));
      h.ctx.start();
      // Committed only after stored: once the group stands at the end, every record is stored.
      await().atMost(WAIT).until(() -> groupOffsets(kafka, group).equals(kafka.endOffsets(topic)));
      h.runBatch();

      assertThat(h.seen).containsExactlyInAnyOrderElementsOf(expected);
    }
    assertThat(groupOffsets(kafka, group)).isEqualTo(kafka.endOffsets(topic));
  }

  @Test
  void aRecordThatCannotBeDeserializedFailsTheBatchNamingItsPosition(EmbeddedKafka kafka) {
    String topic = unique("bad");
    String group = unique("bad-group");
    kafka.createTopic(topic, 1);
    kafka.produceBytes(
        List.of(
            new ProducerRecord<>(topic, 0, null, new byte[] {0, 0, 0, 7}),
            new ProducerRecord<>(topic, 0, null, "three".getBytes(StandardCharsets.UTF_8))));
    Map<String, Object> params = params(kafka, group);
    params.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, IntegerDeserializer.class);

    try (ReceiverHarness h = new ReceiverHarness(null, false, 0)) {
      KafkaReceivers.<String, Integer>create(h.ctx, List.of(topic), params)
          .foreachRDD(rdd -> rdd.collect());
      h.ctx.start();
      await().atMost(WAIT).until(() -> groupOffsets(kafka, group).values().contains(2L));
      h.clock.advance(ReceiverHarness.INTERVAL);

      Throwable thrown = catchThrowable(() -> h.ctx.awaitTermination(WAIT));

      assertThat(thrown).isInstanceOf(BatchFailedException.class);
      List<Throwable> chain = new ArrayList<>();
      for (Throwable t = thrown; t != null; t = t.getCause()) {
        chain.add(t);
      }
      assertThat(chain)
          .anySatisfy(
              t ->
                  assertThat(t)
                      .isInstanceOf(TerminalException.class)
                      .hasMessageContaining(
                          "cannot deserialize the value of the record at " + topic + "-0 offset 1")
                      .hasMessageContaining("Kafka receiver of group '" + group + "'"));
    }
  }
}

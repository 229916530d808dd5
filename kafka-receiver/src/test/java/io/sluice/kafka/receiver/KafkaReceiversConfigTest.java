package io.sluice.kafka.receiver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.StreamingContext;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Creation validates topics, Kafka parameters, options and the context; nothing connects. */
class KafkaReceiversConfigTest {

  private static final String SERVERS = "127.0.0.1:9";
  private static final String ENABLE_AUTO_COMMIT = "enable.auto.commit";

  @TempDir Path checkpoint;

  private static Map<String, Object> params() {
    Map<String, Object> p = new HashMap<>();
    p.put("bootstrap.servers", SERVERS);
    p.put("group.id", "g");
    p.put("key.deserializer", StringDeserializer.class);
    p.put("value.deserializer", StringDeserializer.class.getName());
    return p;
  }

  private static Map<String, Object> params(String key, Object value) {
    Map<String, Object> p = params();
    if (value == null) {
      p.remove(key);
    } else {
      p.put(key, value);
    }
    return p;
  }

  private static StreamingContext context(boolean wal, Path checkpoint) {
    StreamingContext.Builder b =
        StreamingContext.builder()
            .appName("config")
            .batchInterval(Duration.ofSeconds(1))
            .parallelism(2)
            .receiverWriteAheadLog(wal);
    if (wal) {
      b.checkpointDir(checkpoint);
    }
    return b.build();
  }

  private void refused(Map<String, Object> params, String... message) {
    StreamingContext ctx = context(false, null);
    var thrown = assertThatThrownBy(() -> KafkaReceivers.create(ctx, List.of("t"), params));
    thrown.isInstanceOf(IllegalArgumentException.class);
    for (String m : message) {
      thrown.hasMessageContaining(m);
    }
  }

  @Test
  void validParametersCreateAStreamWithoutConnecting() {
    StreamingContext ctx = context(false, null);
    assertThat(KafkaReceivers.create(ctx, List.of("t"), params(ENABLE_AUTO_COMMIT, "false")))
        .isNotNull();
    assertThat(
            KafkaReceivers.reliable(
                context(true, checkpoint),
                List.of("t"),
                params(),
                ReliableReceiverOptions.defaults()))
        .isNotNull();
  }

  @Test
  void aGroupIdAndBootstrapServersAreRequired() {
    refused(params("group.id", null), "kafkaParams must set group.id", "was unset");
    refused(params("group.id", " "), "kafkaParams must set group.id", "was ' '");
    refused(params("bootstrap.servers", null), "kafkaParams must set bootstrap.servers");
  }

  @Test
  void autoCommitIsRefusedSinceItWouldCommitRecordsBeforeTheyAreStored() {
    refused(
        params(ENABLE_AUTO_COMMIT, true),
        "enable.auto.commit must be false or unset, was true",
        "before they are stored");
  }

  @Test
  void deserializersMustBeClassesOrClassNamesOfDeserializers() {
    refused(
        params("value.deserializer", new StringDeserializer()),
        "value.deserializer must be a Deserializer class or class name",
        "shared by concurrent tasks");
    refused(
        params("key.deserializer", "com.example.Missing"),
        "key.deserializer names a class that cannot be loaded: com.example.Missing");
    refused(
        params("key.deserializer", String.class),
        "key.deserializer must implement org.apache.kafka.common.serialization.Deserializer",
        "was java.lang.String");
    refused(params("value.deserializer", null), "value.deserializer", "was unset");
  }

  @Test
  void everyOtherSettingIsCheckedAsTheConsumerChecksIt() {
    refused(params("max.poll.records", "many"), "kafkaParams: ", "max.poll.records", "many");
    refused(params("auto.offset.reset", "smallest"), "auto.offset.reset", "smallest");
    Map<String, Object> newProtocol = params("group.protocol", "consumer");
    assertThat(KafkaReceivers.create(context(false, null), List.of("t"), newProtocol)).isNotNull();
    newProtocol.put("partition.assignment.strategy", "range");
    refused(newProtocol, "kafkaParams: ", "partition.assignment.strategy");
  }

  @Test
  void topicsMustNameAtLeastOneTopic() {
    StreamingContext ctx = context(false, null);
    assertThatThrownBy(() -> KafkaReceivers.create(ctx, List.of(), params()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topics must name at least one topic");
    assertThatThrownBy(() -> KafkaReceivers.create(ctx, List.of("t", " "), params()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("topics must not hold a blank name");
  }

  @Test
  void theReliableReceiverRefusesAContextWithoutAWriteAheadLog() {
    StreamingContext ctx = context(false, null);
    assertThatThrownBy(
            () ->
                KafkaReceivers.reliable(
                    ctx, List.of("t"), params(), ReliableReceiverOptions.defaults()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("reliable Kafka receiver of group 'g'")
        .hasMessageContaining("receiverWriteAheadLog(true)");
  }

  @Test
  void theReliableReceiverRefusesTheKafkaStoreOfItsOwnCluster() {
    try (OffsetStore kafkaStore = OffsetStores.kafka(Map.of("bootstrap.servers", SERVERS))) {
      ReliableReceiverOptions options =
          ReliableReceiverOptions.builder().offsetStore(kafkaStore).build();
      assertThatThrownBy(
              () ->
                  KafkaReceivers.reliable(
                      context(true, checkpoint), List.of("t"), params(), options))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("offsetStore kafka(" + SERVERS + ")")
          .hasMessageContaining("leave offsetStore unset");
    }
  }

  @Test
  void optionsRefuseTimeoutsBelowOneMillisecond() {
    assertThatThrownBy(() -> KafkaReceiverOptions.builder().pollTimeout(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pollTimeout must be at least 1 ms, was PT0S");
    assertThatThrownBy(
            () -> ReliableReceiverOptions.builder().closeTimeout(Duration.ofMillis(-1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("closeTimeout must be at least 1 ms, was PT-0.001S");
  }
}

package io.sluice.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaLifecycleTest {

  @Test
  void restartKeepsDataAndPortAndCloseLeavesNothingBehind() {
    ThreadSnapshot threads = ThreadSnapshot.take();
    EmbeddedKafka kafka = EmbeddedKafka.builder().brokerProperty("log.retention.ms", "-1").start();
    Path storage = kafka.storageDirectory();
    String bootstrap = kafka.bootstrapServers();
    assertThat(storage).isDirectory();
    assertThat(kafka.runsInContainer()).isFalse();

    kafka.createTopic("survives-restart", 1);
    kafka.produce(
        List.of(
            new ProducerRecord<>("survives-restart", "k1", "before-1"),
            new ProducerRecord<>("survives-restart", "k2", "before-2")));

    kafka.restart();

    assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
    assertThat(kafka.consumeAll("survives-restart", true))
        .extracting(ConsumerRecord::value)
        .containsExactly("before-1", "before-2");
    List<RecordMetadata> after =
        kafka.produce(List.of(new ProducerRecord<>("survives-restart", "k3", "after-1")));
    assertThat(after).extracting(RecordMetadata::offset).containsExactly(2L);
    assertThat(kafka.endOffsets("survives-restart"))
        .containsExactly(Map.entry(new TopicPartition("survives-restart", 0), 3L));

    kafka.close();
    kafka.close();

    assertThat(Files.exists(storage)).isFalse();
    threads.awaitNoNewNonDaemonThreads();
    assertThatThrownBy(kafka::bootstrapServers).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(kafka::start)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("EmbeddedKafka is closed and cannot be started again");
  }

  @Test
  void aForkedBrokerServesClientsFromAChildJvm() {
    Set<Long> before = childPids();
    try (EmbeddedKafka kafka = EmbeddedKafka.builder().forked().start()) {
      assertThat(kafka.runsInContainer()).isFalse();
      assertThat(kafka.storageDirectory()).isNull();
      assertThat(childPids()).hasSize(before.size() + 1).containsAll(before);
      kafka.createTopic("forked-public", 2);
      kafka.produce(List.of(new ProducerRecord<>("forked-public", 0, "k", "v")));
      assertThat(kafka.consumeAll("forked-public", true))
          .extracting(ConsumerRecord::value)
          .containsExactly("v");
    } finally {
      ProcessHandle.current()
          .children()
          .filter(p -> !before.contains(p.pid()))
          .forEach(ProcessHandle::destroyForcibly);
    }
    assertThat(childPids()).isEqualTo(before);
  }

  private static Set<Long> childPids() {
    return ProcessHandle.current()
        .children()
        .filter(ProcessHandle::isAlive)
        .map(ProcessHandle::pid)
        .collect(Collectors.toSet());
  }

  @Test
  void stopRefusesConnectionsUntilStartBringsTheBrokerBackWithItsData() {
    try (EmbeddedKafka kafka = EmbeddedKafka.startNew()) {
      String bootstrap = kafka.bootstrapServers();
      kafka.createTopic("survives-stop", 1);
      kafka.produce(List.of(new ProducerRecord<>("survives-stop", "k", "before")));

      kafka.stop();
      kafka.stop();

      assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
      assertThatThrownBy(() -> connect(bootstrap)).isInstanceOf(ConnectException.class);
      assertThatThrownBy(kafka::restart).isInstanceOf(IllegalStateException.class);

      kafka.start();

      assertThat(kafka.bootstrapServers()).isEqualTo(bootstrap);
      kafka.produce(List.of(new ProducerRecord<>("survives-stop", "k", "after")));
      assertThat(kafka.consumeAll("survives-stop", true))
          .extracting(ConsumerRecord::value)
          .containsExactly("before", "after");
    }
  }

  private static void connect(String bootstrap) throws IOException {
    int colon = bootstrap.lastIndexOf(':');
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(
              bootstrap.substring(0, colon), Integer.parseInt(bootstrap.substring(colon + 1))),
          2_000);
    }
  }

  @Test
  void twoBrokersRunSideBySideInOneJvm() {
    try (EmbeddedKafka first = EmbeddedKafka.startNew();
        EmbeddedKafka second = EmbeddedKafka.startNew()) {
      assertThat(first.bootstrapServers()).isNotEqualTo(second.bootstrapServers());
      first.createTopic("side-by-side", 1);
      second.createTopic("side-by-side", 2);
      first.produce(List.of(new ProducerRecord<>("side-by-side", "k", "first")));

      assertThat(first.consumeAll("side-by-side", false))
          .extracting(ConsumerRecord::value)
          .containsExactly("first");
      assertThat(second.consumeAll("side-by-side", false)).isEmpty();
      assertThat(second.endOffsets("side-by-side")).hasSize(2);
    }
  }

  @Test
  void builderRejectsSettingsTheFixtureOwns() {
    assertThatThrownBy(
            () -> EmbeddedKafka.builder().brokerProperty("listeners", "PLAINTEXT://:9092").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "brokerProperty listeners is managed by EmbeddedKafka and cannot be set, was PLAINTEXT://:9092");
    assertThatThrownBy(() -> EmbeddedKafka.builder().brokerProperty(" ", "x").build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("brokerProperty key must not be blank, was ' '");
  }

  @Test
  void helpersFailClearlyBeforeStart() {
    EmbeddedKafka kafka = EmbeddedKafka.builder().build();
    assertThatThrownBy(kafka::bootstrapServers)
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("EmbeddedKafka is not running; call start() first");
    kafka.close();
  }
}

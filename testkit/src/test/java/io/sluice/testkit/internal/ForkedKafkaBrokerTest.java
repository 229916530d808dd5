package io.sluice.testkit.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class ForkedKafkaBrokerTest {

  @Test
  void theBrokerRunsInAChildJvmThatKeepsDataAcrossRestartsAndLeavesNothingBehind()
      throws Exception {
    ForkedKafkaBroker broker = new ForkedKafkaBroker(Map.of("log.retention.ms", "-1"));
    try {
      broker.start();
      Process child = broker.process();
      assertThat(child.isAlive()).isTrue();
      assertThat(child.pid()).isNotEqualTo(ProcessHandle.current().pid());
      Path storage = broker.storage();
      assertThat(storage).isDirectory();
      String bootstrap = broker.bootstrapServers();
      assertThat(bootstrap).startsWith("127.0.0.1:");

      try (KafkaTestClients clients = new KafkaTestClients(bootstrap)) {
        clients.createTopic("forked", 1, Map.of());
        clients.produce(
            List.of(
                new ProducerRecord<>("forked", "k", "before-1"),
                new ProducerRecord<>("forked", "k", "before-2")));
      }

      broker.restart();
      assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
      try (KafkaTestClients clients = new KafkaTestClients(bootstrap)) {
        clients.produce(List.of(new ProducerRecord<>("forked", "k", "after-1")));
        assertThat(clients.consumeAll("forked", true))
            .extracting(ConsumerRecord::value)
            .containsExactly("before-1", "before-2", "after-1");
      }

      broker.pause();
      int port = Integer.parseInt(bootstrap.substring(bootstrap.indexOf(':') + 1));
      assertThatThrownBy(() -> new Socket().connect(new InetSocketAddress("127.0.0.1", port), 2000))
          .isInstanceOf(ConnectException.class);
      broker.resume();
      try (KafkaTestClients clients = new KafkaTestClients(bootstrap)) {
        assertThat(clients.consumeAll("forked", true)).hasSize(3);
      }

      broker.close();
      broker.close();
      assertThat(child.isAlive()).isFalse();
      assertThat(child.exitValue()).isZero();
      assertThat(Files.exists(storage)).isFalse();
      assertThatThrownBy(broker::restart)
          .isInstanceOf(IllegalStateException.class)
          .hasMessage("the forked Kafka broker is not running");
    } finally {
      Process child = broker.process();
      if (child != null) {
        child.destroyForcibly();
      }
    }
  }

  @Test
  void aBrokerThatCannotStartFailsStartWithTheChildsReason() {
    ForkedKafkaBroker broker = new ForkedKafkaBroker(Map.of("num.network.threads", "none"));
    try {
      assertThatThrownBy(broker::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("answered: ERROR")
          .hasMessageContaining("num.network.threads");
      assertThat(broker.process().isAlive()).isFalse();
    } finally {
      if (broker.process() != null) {
        broker.process().destroyForcibly();
      }
    }
  }
}

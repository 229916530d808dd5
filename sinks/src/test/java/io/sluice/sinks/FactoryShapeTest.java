package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.BatchOutput;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Sinks} and {@link OffsetStores} follow one rule: a factory named after the thing returns
 * it finished, {@code <name>Builder()} returns a builder.
 */
class FactoryShapeTest {

  private static List<Method> factories(Class<?> type) {
    return Arrays.stream(type.getDeclaredMethods())
        .filter(m -> Modifier.isPublic(m.getModifiers()) && Modifier.isStatic(m.getModifiers()))
        .toList();
  }

  @Test
  void sinkFactoriesReturnFinishedSinksAndBuilderFactoriesReturnBuilders() {
    List<Method> all = factories(Sinks.class);
    assertThat(all)
        .extracting(Method::getName)
        .containsExactlyInAnyOrder(
            "console", "console", "jdbcBuilder", "kafkaBuilder", "fileBuilder");
    assertFollowTheRule(all, BatchOutput.class);
    assertThat(Sinks.<String>console()).isInstanceOf(ConsoleSink.class);
    assertThat(Sinks.<String>kafkaBuilder()).isInstanceOf(KafkaSink.Builder.class);
    assertThat(Sinks.<String>jdbcBuilder()).isInstanceOf(JdbcSink.Builder.class);
    assertThat(Sinks.<String>fileBuilder()).isInstanceOf(FileSink.Builder.class);
  }

  @Test
  void offsetStoreFactoriesFollowTheSameRule() {
    List<Method> stores =
        factories(OffsetStores.class).stream()
            .filter(
                m ->
                    m.getName().endsWith("Builder")
                        || OffsetStore.class.isAssignableFrom(m.getReturnType()))
            .toList();
    assertThat(stores)
        .extracting(Method::getName)
        .containsExactlyInAnyOrder(
            "kafka",
            "kafkaBuilder",
            "zookeeper",
            "zookeeperBuilder",
            "file",
            "fileBuilder",
            "jdbc",
            "jdbcBuilder");
    assertFollowTheRule(stores, OffsetStore.class);
  }

  private static void assertFollowTheRule(List<Method> factories, Class<?> finishedType) {
    assertThat(factories)
        .allSatisfy(
            m -> {
              if (m.getName().endsWith("Builder")) {
                assertThat(m.getParameterCount()).as(m.getName()).isZero();
                assertThat(m.getReturnType().getSimpleName()).as(m.getName()).endsWith("Builder");
              } else {
                assertThat(finishedType.isAssignableFrom(m.getReturnType()))
                    .as(m.getName() + " returns a finished " + finishedType.getSimpleName())
                    .isTrue();
              }
            });
  }
}

package io.sluice.testkit;

import io.sluice.testkit.internal.SharedFixtures;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Injects one shared {@link EmbeddedKafka} into test constructors, {@code @BeforeAll},
 * {@code @BeforeEach} and test methods that declare a parameter of that type:
 *
 * <pre>{@code
 * @ExtendWith(EmbeddedKafkaExtension.class)
 * class MyTest {
 *     @Test
 *     void works(EmbeddedKafka server) { ... }
 * }
 * }</pre>
 *
 * <p>The first request starts a single-node Kafka broker; every test class of the same JUnit run
 * (one JVM, e.g. a whole Maven module) then gets the same instance, which is closed when the run
 * ends (JUnit 5.13 or later closes {@link AutoCloseable} values of the root store). Tests sharing
 * it must use unique names (topics, group ids, znodes, tables or schemas) and must not close it.
 * Thread-safe, also with parallel test execution.
 */
public final class EmbeddedKafkaExtension implements ParameterResolver {

  /** Called by JUnit. */
  public EmbeddedKafkaExtension() {}

  /** True for parameters of type {@link EmbeddedKafka}. */
  @Override
  public boolean supportsParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == EmbeddedKafka.class;
  }

  /** The run-wide instance, started on first use (blocking). */
  @Override
  public Object resolveParameter(
      ParameterContext parameterContext, ExtensionContext extensionContext) {
    return SharedFixtures.shared(
        extensionContext, EmbeddedKafka.class, () -> EmbeddedKafka.startNew());
  }
}

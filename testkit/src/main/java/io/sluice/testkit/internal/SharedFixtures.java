package io.sluice.testkit.internal;

import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Keeps one fixture of each type per JUnit run (one per JVM) in the root extension store. */
public final class SharedFixtures {

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create("io.sluice.testkit");

  private SharedFixtures() {}

  /**
   * Returns the run-wide instance of {@code type}, starting it with {@code starter} on first use.
   * JUnit (5.13+) closes it when the run ends, because it is an {@link AutoCloseable} in the root
   * store.
   */
  public static <T extends AutoCloseable> T shared(
      ExtensionContext context, Class<T> type, Supplier<T> starter) {
    return context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent(type, key -> starter.get(), type);
  }
}

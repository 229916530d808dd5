package io.sluice.testkit;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Set;
import java.util.stream.Collectors;

/** The live non-daemon threads at one moment, to check that a fixture leaves none behind. */
final class ThreadSnapshot {

  private final Set<Thread> before;

  private ThreadSnapshot(Set<Thread> before) {
    this.before = before;
  }

  static ThreadSnapshot take() {
    return new ThreadSnapshot(nonDaemonThreads());
  }

  /** Waits briefly until every non-daemon thread started since the snapshot has ended. */
  void awaitNoNewNonDaemonThreads() {
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> org.assertj.core.api.Assertions.assertThat(newThreadNames()).isEmpty());
  }

  private Set<String> newThreadNames() {
    return nonDaemonThreads().stream()
        .filter(t -> !before.contains(t))
        .map(Thread::getName)
        .collect(Collectors.toSet());
  }

  private static Set<Thread> nonDaemonThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        // Awaitility's own poller is non-daemon and outlives the check that started it.
        .filter(t -> t.isAlive() && !t.isDaemon() && !t.getName().startsWith("awaitility"))
        .collect(Collectors.toSet());
  }
}

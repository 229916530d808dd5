package io.sluice.engine.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Named engine threads with an uncaught exception handler. */
public final class EngineThreads {

  private static final Logger LOG = LoggerFactory.getLogger(EngineThreads.class);

  /** Logs what escapes a thread; engine code catches its own failures, so this means a bug. */
  public static final Thread.UncaughtExceptionHandler HANDLER =
      (t, e) -> LOG.error("uncaught exception in thread {}", t.getName(), e);

  /** Which engine role the current thread has; null for application threads. */
  static final ThreadLocal<String> ROLE = new ThreadLocal<>();

  private EngineThreads() {}

  /** A single named thread. */
  public static Thread newThread(String name, boolean daemon, Runnable body) {
    Thread t =
        new Thread(
            () -> {
              ROLE.set(name);
              body.run();
            },
            name);
    t.setDaemon(daemon);
    t.setUncaughtExceptionHandler(HANDLER);
    return t;
  }

  /**
   * A factory of threads {@code prefix-0, prefix-1, ...}; {@code onStart} receives the thread
   * index.
   */
  public static ThreadFactory factory(
      String prefix, boolean daemon, java.util.function.IntConsumer onStart) {
    AtomicInteger next = new AtomicInteger();
    return r -> {
      int index = next.getAndIncrement();
      return newThread(
          prefix + "-" + index,
          daemon,
          () -> {
            onStart.accept(index);
            r.run();
          });
    };
  }

  /** True when called on an engine thread (generator, job, task). */
  public static boolean onEngineThread() {
    return ROLE.get() != null;
  }
}

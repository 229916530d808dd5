package io.sluice.engine;

import java.time.Instant;

/** The wall clock ({@link System#currentTimeMillis()} resolution). Stateless and thread-safe. */
public final class SystemClock implements Clock {

  /** Shared instance. */
  public static final SystemClock INSTANCE = new SystemClock();

  /** Creates a system clock; prefer {@link #INSTANCE}. */
  public SystemClock() {}

  @Override
  public Instant now() {
    return Instant.ofEpochMilli(System.currentTimeMillis());
  }

  @Override
  public void waitUntil(Instant time) throws InterruptedException {
    long target = time.toEpochMilli();
    long remaining;
    while ((remaining = target - System.currentTimeMillis()) > 0) {
      // Sleeping in short steps keeps the wake-up close to the target despite timer slack.
      Thread.sleep(Math.min(remaining, 25));
    }
  }

  @Override
  public String toString() {
    return "SystemClock";
  }
}

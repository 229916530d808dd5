package io.sluice.engine.receiver;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.receiver.internal.RateLimiter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {

  /** A clock that moves only when the limiter parks. */
  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private RateLimiter limiter(double rate) {
    return new RateLimiter(rate, now::get, now::addAndGet);
  }

  @Test
  void holdsTheRateWithinFivePercent() {
    RateLimiter limiter = limiter(1_000);
    long start = now.get();
    for (int i = 0; i < 10_000; i++) {
      limiter.acquire(1);
    }
    double seconds = (now.get() - start) / 1e9;
    assertThat(10_000 / seconds).isBetween(950.0, 1_050.0);
  }

  @Test
  void blocksOfRecordsTakeTheirShareAndARateChangeAppliesToTheNext() {
    RateLimiter limiter = limiter(100);
    long start = now.get();
    limiter.acquire(50); // first: no wait, next free after 0.5 s
    limiter.acquire(50); // waits 0.5 s
    assertThat(now.get() - start).isEqualTo(500_000_000L);
    limiter.setRate(1_000);
    limiter.acquire(1); // waits the 0.5 s the previous block reserved
    limiter.acquire(1); // 1 ms at the new rate
    assertThat(now.get() - start).isEqualTo(1_001_000_000L);
  }

  @Test
  void noRateMeansNoWait() {
    RateLimiter limiter = limiter(0);
    long start = now.get();
    for (int i = 0; i < 1_000; i++) {
      limiter.acquire(100);
    }
    assertThat(now.get()).isEqualTo(start);
  }
}

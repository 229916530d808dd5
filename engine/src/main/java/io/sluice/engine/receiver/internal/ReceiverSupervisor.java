package io.sluice.engine.receiver.internal;

import io.sluice.engine.internal.EngineThreads;
import io.sluice.engine.receiver.Receiver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link Receiver} on a task slot for the context's life: starts it, restarts it after a
 * back-off when it asks to (or its {@code onStart} fails), and stops it first on a stop. Records it
 * stores go through the rate limiter and the {@link BlockGenerator} (single records) into {@link
 * ReceivedBlocks}. Threads: {@link #run()} on the slot; a timer cutting blocks ({@code
 * sluice-receiver-<stream>-blocks}) and a pusher storing them ({@code
 * sluice-receiver-<stream>-pusher}); the receiver's own threads call the {@link ReceiverContext}
 * methods.
 *
 * @param <T> record type
 */
public final class ReceiverSupervisor<T> implements ReceiverContext<T> {

  private static final Logger LOG = LoggerFactory.getLogger(ReceiverSupervisor.class);
  private static final int MAX_QUEUED_BLOCKS = 10;
  private static final int MAX_BLOCK_RECORDS = 100_000;

  private final Receiver<T> receiver;
  private final String stream;
  private final BlockSource<T> blocks;
  private final RateLimiter limiter;
  private final Duration blockInterval;
  private final Duration initialRestartDelay;
  private final Duration maxRestartDelay;
  private final BlockGenerator<T> generator;
  private final ReceiverStats stats;
  private final Object monitor = new Object();
  private final CountDownLatch ended = new CountDownLatch(1);
  private boolean stopRequested; // guarded by monitor
  private String restartReason; // guarded by monitor
  private Throwable restartError; // guarded by monitor
  private volatile boolean receiving;
  private volatile boolean stopped;

  /** A supervisor of {@code receiver} storing into {@code blocks}. */
  ReceiverSupervisor(
      Receiver<T> receiver,
      String stream,
      BlockSource<T> blocks,
      RateLimiter limiter,
      Duration blockInterval,
      Duration initialRestartDelay,
      Duration maxRestartDelay,
      ReceiverStats stats) {
    this.receiver = receiver;
    this.stream = stream;
    this.blocks = blocks;
    this.limiter = limiter;
    this.blockInterval = blockInterval;
    this.initialRestartDelay = initialRestartDelay;
    this.maxRestartDelay = maxRestartDelay;
    this.stats = stats;
    this.generator = new BlockGenerator<>(MAX_QUEUED_BLOCKS, MAX_BLOCK_RECORDS, this::storeNow);
    ReceiverContext.attach(receiver, this);
  }

  /** How many times the receiver was restarted. */
  public long restarts() {
    return stats.restarts();
  }

  /** How many errors the receiver reported, restarts included. */
  public long errors() {
    return stats.errors();
  }

  /**
   * Runs the receiver until {@link #stop()}: the body of its task slot. Blocks; any thread that may
   * hold a slot for the context's life.
   */
  public void run() {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> EngineThreads.newThread("sluice-receiver-" + stream + "-blocks", true, r));
    Thread pusher =
        EngineThreads.newThread("sluice-receiver-" + stream + "-pusher", true, this::push);
    try {
      long intervalMs = Math.max(1, blockInterval.toMillis());
      timer.scheduleAtFixedRate(this::cut, intervalMs, intervalMs, TimeUnit.MILLISECONDS);
      pusher.start();
      supervise();
    } finally {
      // Nothing here interrupts a thread that may be writing the log: an interrupt closes its
      // file channel. The timer's last cut and the pusher finish; the pusher drains the queue.
      timer.shutdown();
      try {
        timer.awaitTermination(10, TimeUnit.SECONDS);
        generator.stop();
        pusher.join(TimeUnit.SECONDS.toMillis(30));
        if (pusher.isAlive()) {
          LOG.warn(
              "receiver {} of stream {}: blocks are still being stored",
              receiver.describe(),
              stream);
        } else {
          generator.drain();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      stopped = true;
      stats.stopped();
      ended.countDown();
    }
  }

  private void supervise() {
    long delayMs = initialRestartDelay.toMillis();
    while (true) {
      long startedAt = System.nanoTime();
      receiving = true;
      stats.starting();
      try {
        receiver.onStart();
        LOG.info("receiver {} of stream {} started", receiver.describe(), stream);
      } catch (RuntimeException | Error e) {
        restart("onStart failed", e);
      }
      String reason;
      Throwable error;
      synchronized (monitor) {
        while (!stopRequested && restartReason == null) {
          try {
            monitor.wait();
          } catch (InterruptedException e) {
            stopRequested = true;
          }
        }
        reason = restartReason;
        error = restartError;
      }
      receiving = false;
      if (reason != null) {
        stats.restarting();
      }
      try {
        receiver.onStop();
      } catch (RuntimeException | Error e) {
        LOG.warn("receiver {} of stream {} failed to stop", receiver.describe(), stream, e);
      }
      if (System.nanoTime() - startedAt >= maxRestartDelay.toNanos()) {
        // It ran well for a while before this failure: the back-off starts over.
        delayMs = initialRestartDelay.toMillis();
      }
      if (!awaitRestart(reason, error, delayMs)) {
        LOG.info("receiver {} of stream {} stopped", receiver.describe(), stream);
        return;
      }
      stats.restarted();
      // A receiver that ran well for a while before failing starts its back-off over.
      boolean ranLong = System.nanoTime() - startedAt >= maxRestartDelay.toNanos();
      delayMs =
          ranLong
              ? initialRestartDelay.toMillis()
              : Math.min(delayMs * 2, maxRestartDelay.toMillis());
    }
  }

  /** Waits out the back-off before a restart; false when the supervisor is stopping instead. */
  private boolean awaitRestart(String reason, Throwable error, long delayMs) {
    synchronized (monitor) {
      if (stopRequested) {
        return false;
      }
      LOG.warn(
          "receiver {} of stream {} restarts in {} ms: {}",
          receiver.describe(),
          stream,
          delayMs,
          reason,
          error);
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delayMs);
      long left;
      while (!stopRequested && (left = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(monitor, left);
        } catch (InterruptedException e) {
          stopRequested = true;
        }
      }
      restartReason = null;
      restartError = null;
      return !stopRequested;
    }
  }

  private void cut() {
    try {
      generator.cut();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void push() {
    while (true) {
      try {
        if (!generator.pushNext()) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        // The block's records were taken by store(record) and could not be stored: say how many
        // and restart the receiver, whose source resends what it did not see acknowledged.
        LOG.error(
            "receiver {} of stream {}: a block could not be stored and its records are lost; restarting the"
                + " receiver",
            receiver.describe(),
            stream,
            e);
        restart("storing a block failed", e);
      }
    }
  }

  private void storeNow(List<T> records) {
    blocks.add(records);
    stats.stored(records.size());
  }

  /**
   * Stops the receiver and waits (at most {@code timeout}) until it stopped and every record it
   * stored is in a block. Idempotent; any thread but the receiver's.
   */
  public void stop(Duration timeout) {
    synchronized (monitor) {
      stopRequested = true;
      monitor.notifyAll();
    }
    try {
      if (!ended.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.warn(
            "receiver {} of stream {} did not stop within {}",
            receiver.describe(),
            stream,
            timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void storeRecord(T record) {
    requireRunning();
    limiter.acquire(1);
    try {
      generator.add(record);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while storing a record of stream " + stream, e);
    }
  }

  @Override
  public void storeBlock(List<T> records, java.util.Map<String, String> marks) {
    requireRunning();
    limiter.acquire(records.size());
    blocks.add(records, marks);
    stats.stored(records.size());
  }

  @Override
  public java.util.Map<String, String> storedMarks() {
    return blocks.marks();
  }

  private void requireRunning() {
    if (stopped) {
      throw new IllegalStateException(
          "receiver " + receiver.describe() + " of stream " + stream + " is stopped");
    }
  }

  @Override
  public void restart(String message, Throwable error) {
    synchronized (monitor) {
      if (restartReason == null && !stopRequested) {
        restartReason = message;
        restartError = error;
        stats.error(message, error);
      }
      monitor.notifyAll();
    }
  }

  @Override
  public void reportError(String message, Throwable error) {
    stats.error(message, error);
    LOG.warn("receiver {} of stream {} reports: {}", receiver.describe(), stream, message, error);
  }

  @Override
  public boolean isStopped() {
    return !receiving || stopped;
  }
}

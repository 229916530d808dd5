package io.sluice.engine.internal;

import io.micrometer.core.instrument.Counter;
import io.sluice.engine.StreamingListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers events to the listeners off the engine's critical path, like Spark's {@code
 * LiveListenerBus}: {@link #post} queues an event and returns at once; one daemon thread {@code
 * sluice-listener-bus} calls the listeners, one event at a time, in the order the events were
 * posted. At most {@code capacity} events wait; past that, new events are dropped, counted in
 * {@code sluice.listener.events.dropped} and logged once (WARN) per overflow episode (from the
 * first drop until the thread has emptied the queue). A listener's exception is logged and ignored.
 * {@link #stop} delivers what is queued, waiting a bounded time.
 *
 * <p>Threads: {@link #post} from any thread; {@link #start} and {@link #stop} from the runtime's
 * lifecycle.
 */
public final class ListenerBus {

  /** Events that may wait for delivery before new ones are dropped. */
  public static final int DEFAULT_CAPACITY = 10_000;

  /** The thread's name. */
  static final String THREAD_NAME = "sluice-listener-bus";

  private static final Logger LOG = LoggerFactory.getLogger(ListenerBus.class);

  /** Queued after the last event by {@link #stop}: the thread ends when it takes it. */
  private static final Consumer<StreamingListener> END = l -> {};

  private final String appName;
  private final int capacity;
  private final Counter dropped;
  private final List<StreamingListener> listeners = new CopyOnWriteArrayList<>();
  // Unbounded, so END always fits; the capacity is enforced by `queued`, which counts the events
  // not yet taken.
  private final BlockingQueue<Consumer<StreamingListener>> queue = new LinkedBlockingQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicBoolean overflowing = new AtomicBoolean();
  private final AtomicLong droppedInEpisode = new AtomicLong();
  private Thread thread;
  private volatile boolean stopped;
  private volatile boolean abandoned;

  /**
   * A bus whose thread starts with {@link #start()}.
   *
   * @param appName the application, for logs
   * @param capacity events that may wait for delivery (> 0)
   * @param dropped counts the events dropped because {@code capacity} events were waiting
   */
  public ListenerBus(String appName, int capacity, Counter dropped) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be > 0, was " + capacity);
    }
    this.appName = appName;
    this.capacity = capacity;
    this.dropped = dropped;
  }

  /** Adds a listener; it receives the events delivered from now on. Any thread. */
  public void add(StreamingListener l) {
    listeners.add(l);
  }

  /**
   * Queues {@code event} for every listener; never blocks. Dropped (and counted) when {@code
   * capacity} events are waiting; ignored once the bus stopped. Any thread.
   */
  public void post(Consumer<StreamingListener> event) {
    if (stopped) {
      LOG.debug(
          "context '{}': listener event posted after the listener bus stopped, ignored", appName);
      return;
    }
    if (queued.incrementAndGet() > capacity) {
      queued.decrementAndGet();
      drop();
      return;
    }
    queue.add(event);
  }

  private void drop() {
    dropped.increment();
    droppedInEpisode.incrementAndGet();
    if (overflowing.compareAndSet(false, true)) {
      LOG.warn(
          "context '{}': {} listener events are waiting for delivery; dropping new events until the listeners"
              + " catch up (counted in sluice.listener.events.dropped). A listener is slow or blocks: listeners must"
              + " return quickly",
          appName,
          capacity);
    }
  }

  /** Starts the delivery thread; idempotent. Lifecycle thread. */
  public synchronized void start() {
    if (thread == null && !stopped) {
      thread = EngineThreads.newThread(THREAD_NAME, true, this::run);
      thread.start();
    }
  }

  private void run() {
    try {
      while (!abandoned) {
        Consumer<StreamingListener> event = queue.take();
        if (event == END) {
          return;
        }
        queued.decrementAndGet();
        deliver(event);
        if (queue.isEmpty() && overflowing.compareAndSet(true, false)) {
          LOG.info(
              "context '{}': the listeners caught up; {} events were dropped",
              appName,
              droppedInEpisode.getAndSet(0));
        }
      }
    } catch (InterruptedException e) {
      // stop() gave up waiting for a blocked listener
      Thread.currentThread().interrupt();
    }
  }

  private void deliver(Consumer<StreamingListener> event) {
    for (StreamingListener l : listeners) {
      try {
        event.accept(l);
      } catch (VirtualMachineError e) {
        throw e;
      } catch (Throwable e) {
        LOG.warn("streaming listener {} failed", l, e);
      }
    }
  }

  /**
   * Stops taking events and delivers those already queued, waiting at most {@code timeout} for
   * them; if a listener is still busy then, logs how many events are left undelivered and
   * interrupts the thread, which ends after the current listener call. Idempotent. Lifecycle thread
   * (a listener calling it would wait for itself; it then returns without waiting).
   *
   * @return true when every queued event was delivered
   */
  public boolean stop(Duration timeout) {
    Thread t;
    synchronized (this) {
      if (stopped) {
        t = thread;
      } else {
        stopped = true;
        t = thread;
        queue.add(END);
      }
    }
    if (t == null) {
      // Never started (the context never ran): nothing was posted that a listener could expect.
      queue.clear();
      return true;
    }
    if (t == Thread.currentThread()) {
      return false;
    }
    try {
      t.join(TimeUnit.NANOSECONDS.toMillis(timeout.toNanos()) + 1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!t.isAlive()) {
      return true;
    }
    abandoned = true;
    LOG.warn(
        "context '{}': a streaming listener is still busy after {}; {} queued events are not delivered",
        appName,
        timeout,
        queued.get());
    t.interrupt();
    return false;
  }

  /** Events waiting for delivery (not counting the one being delivered). */
  int queued() {
    return queued.get();
  }
}

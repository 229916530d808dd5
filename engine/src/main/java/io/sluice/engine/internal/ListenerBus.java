package io.sluice.engine.internal;

import io.sluice.engine.StreamingListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Delivers events synchronously to the listeners, isolating their failures. */
public final class ListenerBus {

  private static final Logger LOG = LoggerFactory.getLogger(ListenerBus.class);

  private final List<StreamingListener> listeners = new CopyOnWriteArrayList<>();

  /** Adds a listener. */
  public void add(StreamingListener l) {
    listeners.add(l);
  }

  /** Calls {@code event} on every listener; one event at a time across the engine's threads. */
  public synchronized void post(Consumer<StreamingListener> event) {
    for (StreamingListener l : listeners) {
      try {
        event.accept(l);
      } catch (RuntimeException e) {
        LOG.warn("streaming listener {} failed", l, e);
      }
    }
  }
}

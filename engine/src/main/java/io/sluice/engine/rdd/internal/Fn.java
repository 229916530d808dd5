package io.sluice.engine.rdd.internal;

import io.sluice.engine.UserCodeException;
import io.sluice.engine.function.FlatMapFunction;
import io.sluice.engine.function.Function;
import io.sluice.engine.function.Function0;
import io.sluice.engine.function.Function2;
import io.sluice.engine.function.VoidFunction;
import java.util.Iterator;
import java.util.NoSuchElementException;

/** Calls application functions, wrapping checked exceptions in {@link UserCodeException}. */
public final class Fn {

  private Fn() {}

  /** Applies {@code f}. */
  public static <T, R> R call(Function<T, R> f, T t) {
    try {
      return f.call(t);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new UserCodeException(e);
    }
  }

  /** Applies {@code f}. */
  public static <A, B, R> R call(Function2<A, B, R> f, A a, B b) {
    try {
      return f.call(a, b);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new UserCodeException(e);
    }
  }

  /** Applies {@code f}. */
  public static <A, B, C, R> R call(
      io.sluice.engine.function.Function3<A, B, C, R> f, A a, B b, C c) {
    try {
      return f.call(a, b, c);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new UserCodeException(e);
    }
  }

  /** Applies {@code f}. */
  public static <R> R call(Function0<R> f) {
    try {
      return f.call();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new UserCodeException(e);
    }
  }

  /** Applies {@code f}. */
  public static <T> void run(VoidFunction<T> f, T t) {
    try {
      f.call(t);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new UserCodeException(e);
    }
  }

  /** Applies {@code f}, treating a null result as empty. */
  public static <T, R> Iterator<R> flat(FlatMapFunction<T, R> f, T t) {
    Iterator<R> it;
    try {
      it = f.call(t);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new UserCodeException(e);
    }
    return it == null ? java.util.Collections.emptyIterator() : it;
  }

  /** Lazily maps every element. */
  public static <T, R> Iterator<R> map(Iterator<T> in, Function<T, R> f) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return in.hasNext();
      }

      @Override
      public R next() {
        return call(f, in.next());
      }
    };
  }

  /** Lazily keeps the elements for which {@code p} is true. */
  public static <T> Iterator<T> filter(Iterator<T> in, Function<T, Boolean> p) {
    return new Iterator<>() {
      private T next;
      private boolean ready;

      @Override
      public boolean hasNext() {
        while (!ready && in.hasNext()) {
          T t = in.next();
          if (Boolean.TRUE.equals(call(p, t))) {
            next = t;
            ready = true;
          }
        }
        return ready;
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        ready = false;
        T t = next;
        next = null;
        return t;
      }
    };
  }

  /** Lazily flat-maps every element. */
  public static <T, R> Iterator<R> flatMap(Iterator<T> in, FlatMapFunction<T, R> f) {
    return new Iterator<>() {
      private Iterator<R> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext()) {
          if (!in.hasNext()) {
            return false;
          }
          current = flat(f, in.next());
        }
        return true;
      }

      @Override
      public R next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  /** Concatenates iterators produced lazily by index. */
  public static <T> Iterator<T> concat(
      int count, java.util.function.IntFunction<Iterator<T>> part) {
    return new Iterator<>() {
      private int index;
      private Iterator<T> current = java.util.Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!current.hasNext()) {
          if (index >= count) {
            return false;
          }
          current = part.apply(index++);
        }
        return true;
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }
}

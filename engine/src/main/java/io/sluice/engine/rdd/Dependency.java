package io.sluice.engine.rdd;

import java.util.Objects;

/**
 * An edge of an RDD's lineage: narrow (each child partition reads a bounded set of parent
 * partitions in the same task, so transformations fuse) or shuffle (a stage boundary: every parent
 * partition is computed and bucketed first).
 *
 * @param rdd the parent
 * @param kind narrow or shuffle
 */
public record Dependency(RDD<?> rdd, Kind kind) {

  /** Validates the fields. */
  public Dependency {
    Objects.requireNonNull(rdd, "rdd");
    Objects.requireNonNull(kind, "kind");
  }

  /** A narrow dependency on {@code rdd}. */
  public static Dependency narrow(RDD<?> rdd) {
    return new Dependency(rdd, Kind.NARROW);
  }

  /** A shuffle dependency on {@code rdd}. */
  public static Dependency shuffle(RDD<?> rdd) {
    return new Dependency(rdd, Kind.SHUFFLE);
  }

  /** The dependency kinds. */
  public enum Kind {
    /** Child partitions are computed from parent partitions in the same task. */
    NARROW,
    /** The parent is shuffled through memory before the child runs. */
    SHUFFLE
  }
}

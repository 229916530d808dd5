package io.sluice.engine.rdd.internal;

import io.sluice.engine.rdd.PairRDD;
import io.sluice.engine.rdd.RDD;

/** An RDD whose partition {@code p} reads exactly partition {@code p} of its one parent. */
public interface OneToOne {

  /** The parent, or null once it was dropped (a fully cached RDD). */
  RDD<?> parent();

  /**
   * The parent of {@code rdd} when its partition {@code p} reads exactly its parent's partition
   * {@code p} (a one-to-one transformation, a pair view), else null.
   */
  static RDD<?> parentOf(RDD<?> rdd) {
    if (rdd instanceof OneToOne one) {
      return one.parent();
    }
    if (rdd.getClass() == PairRDD.class) {
      return rdd.dependencies().get(0).rdd();
    }
    return null;
  }
}

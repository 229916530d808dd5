package io.sluice.offsets.internal;

import io.sluice.offsets.BatchCommit;

/**
 * Called by a store in the middle of a commit, after part of it has been written and before it is
 * made durable or visible; tests throw from here to prove a half-done commit leaves nothing.
 */
@FunctionalInterface
public interface CommitHook {

  /** The hook of production stores: does nothing. */
  CommitHook NONE = commit -> {};

  /** Runs midway through {@code commit}; an exception aborts the commit. */
  void midway(BatchCommit commit) throws Exception;
}

package io.sluice.engine.receiver.internal;

import io.sluice.engine.CheckpointException;
import java.nio.file.Path;

/**
 * A write-ahead log segment that cannot be read past {@link #offset()}. Checked, so the reader's
 * caller decides: at the end of the newest segment after a crash a {@link #tornCandidate()} is cut;
 * anywhere else it becomes a {@link CheckpointException} through {@link #refusal()}.
 */
final class DamagedSegmentException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient Path file;
  private final long offset;
  private final String problem;
  private final boolean tornCandidate;

  /**
   * @param tornCandidate true when the damage looks like an interrupted append: nothing readable
   *     follows it in the file
   */
  DamagedSegmentException(Path file, long offset, String problem, boolean tornCandidate) {
    super(file + " at byte " + offset + ": " + problem);
    this.file = file;
    this.offset = offset;
    this.problem = problem;
    this.tornCandidate = tornCandidate;
  }

  Path file() {
    return file;
  }

  long offset() {
    return offset;
  }

  String problem() {
    return problem;
  }

  boolean tornCandidate() {
    return tornCandidate;
  }

  /** The exception that refuses the log, naming file and byte offset. */
  CheckpointException refusal() {
    return new CheckpointException(
        "write-ahead log segment "
            + file
            + " is corrupt at byte "
            + offset
            + ": "
            + problem
            + ". This is not the torn tail a crash leaves; the records from this byte on cannot be"
            + " trusted. Restore the file from a backup, or remove the receiver's checkpoint to"
            + " start over (records only in this log are then lost)",
        this);
  }
}

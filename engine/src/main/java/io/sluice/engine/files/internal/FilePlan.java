package io.sluice.engine.files.internal;

import io.sluice.engine.SequencedPlan;
import java.util.List;
import java.util.Objects;

/**
 * A directory stream's plan of one batch: the new files it reads, oldest first (by modification
 * time, then name), numbered consecutively from {@code from}. The numbers are the stream's
 * progress, which an exactly-once output commits with the batch; the file's size and modification
 * time at plan time let the batch's tasks refuse a file that changed since.
 *
 * @param sequence the stream's sequence name ({@code files:<stream>})
 * @param from the number of the first file
 * @param until one past the number of the last file ({@code from} when the batch has none)
 * @param files the files, the one numbered {@code from + i} at index {@code i}
 */
public record FilePlan(String sequence, long from, long until, List<FileEntry> files)
    implements SequencedPlan {

  /** Copies the list and checks that the range numbers every file once. */
  public FilePlan {
    Objects.requireNonNull(sequence, "sequence");
    files = List.copyOf(files);
    if (from < 0 || until - from != files.size()) {
      throw new IllegalArgumentException(
          "files [" + from + ", " + until + ") cannot number " + files.size() + " files");
    }
  }

  /**
   * One file as the plan saw it.
   *
   * @param name the file's name in the stream's directory
   * @param size its size in bytes
   * @param modifiedMillis its last modification time, in milliseconds since the epoch
   */
  public record FileEntry(String name, long size, long modifiedMillis) {

    /** Validates the fields. */
    public FileEntry {
      Objects.requireNonNull(name, "name");
      if (size < 0) {
        throw new IllegalArgumentException("size must be >= 0, was " + size);
      }
    }
  }

  /** The sequence name of directory stream {@code stream}. */
  static String sequenceOf(String stream) {
    return "files:" + stream;
  }
}

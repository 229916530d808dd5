package io.sluice.engine.files.internal;

import io.sluice.engine.TerminalException;
import io.sluice.engine.files.internal.FilePlan.FileEntry;
import java.io.BufferedReader;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Reads one planned file's UTF-8 lines lazily, a buffer at a time, and no byte past the size the
 * plan saw. The file's size and modification time are checked against the plan before the first
 * line and after the last: a file that changed, or is gone, fails the task with a {@link
 * TerminalException} naming it (retrying cannot help), as does a file that is not valid UTF-8.
 * Lines end at {@code \n}, {@code \r\n} or {@code \r}; a last line without an end is a line. One
 * task thread uses it; {@link #close()} is idempotent.
 */
final class LineReader implements Iterator<String>, AutoCloseable {

  private static final int BUFFER_CHARS = 64 << 10;

  private final String stream;
  private final Path file;
  private final long batchId;
  private final FileEntry planned;
  private final BufferedReader reader;
  private String nextLine;
  private long lineNumber;
  private boolean done;

  private LineReader(
      String stream, Path file, long batchId, FileEntry planned, BufferedReader reader) {
    this.stream = stream;
    this.file = file;
    this.batchId = batchId;
    this.planned = planned;
    this.reader = reader;
  }

  /**
   * Opens {@code planned} in {@code dir} after checking it is as the plan saw it.
   *
   * @throws TerminalException when the file changed or is gone
   * @throws UncheckedIOException when it cannot be opened
   */
  static LineReader open(String stream, Path dir, long batchId, FileEntry planned) {
    Path file = dir.resolve(planned.name());
    verify(stream, file, batchId, planned);
    InputStream in;
    try {
      in = new Limited(Files.newInputStream(file), planned.size());
    } catch (NoSuchFileException e) {
      throw gone(stream, file, batchId);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "file stream '" + stream + "': cannot open " + file + " for batch " + batchId, e);
    }
    BufferedReader reader =
        new BufferedReader(
            new InputStreamReader(in, StandardCharsets.UTF_8.newDecoder()), BUFFER_CHARS);
    return new LineReader(stream, file, batchId, planned, reader);
  }

  @Override
  public boolean hasNext() {
    if (nextLine != null) {
      return true;
    }
    if (done) {
      return false;
    }
    try {
      nextLine = reader.readLine();
    } catch (CharacterCodingException e) {
      close();
      throw new TerminalException(
          "file stream '"
              + stream
              + "': "
              + file
              + " of batch "
              + batchId
              + " is not valid UTF-8 at line "
              + (lineNumber + 1),
          e);
    } catch (IOException e) {
      close();
      throw new UncheckedIOException(
          "file stream '" + stream + "': cannot read " + file + " for batch " + batchId, e);
    }
    if (nextLine == null) {
      done = true;
      close();
      verify(stream, file, batchId, planned);
      return false;
    }
    lineNumber++;
    return true;
  }

  @Override
  public String next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    String line = nextLine;
    nextLine = null;
    return line;
  }

  @Override
  public void close() {
    try {
      reader.close();
    } catch (IOException e) {
      // Read-only: nothing is lost when a close fails.
    }
  }

  private static void verify(String stream, Path file, long batchId, FileEntry planned) {
    BasicFileAttributes now;
    try {
      now = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw gone(stream, file, batchId);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "file stream '" + stream + "': cannot read the attributes of " + file, e);
    }
    long modified = now.lastModifiedTime().toMillis();
    if (now.size() != planned.size() || modified != planned.modifiedMillis()) {
      throw new TerminalException(
          "file stream '"
              + stream
              + "': "
              + file
              + " changed after batch "
              + batchId
              + " planned it (size "
              + planned.size()
              + " -> "
              + now.size()
              + " bytes, modified "
              + Instant.ofEpochMilli(planned.modifiedMillis())
              + " -> "
              + Instant.ofEpochMilli(modified)
              + "): it was not moved into the directory atomically. Write files elsewhere (or"
              + " under a name starting with '.' or ending in '.tmp'), then rename them into the"
              + " directory, and never change them after");
    }
  }

  private static TerminalException gone(String stream, Path file, long batchId) {
    return new TerminalException(
        "file stream '"
            + stream
            + "': "
            + file
            + " of batch "
            + batchId
            + " is gone: it was deleted or moved away before the batch read it. Leave each file in"
            + " the directory until its batch committed; restore it to let the batch run");
  }

  /** Reads at most {@code remaining} bytes of its stream. */
  private static final class Limited extends FilterInputStream {
    private long remaining;

    Limited(InputStream in, long limit) {
      super(in);
      this.remaining = limit;
    }

    @Override
    public int read() throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int b = super.read();
      if (b >= 0) {
        remaining--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (remaining <= 0) {
        return -1;
      }
      int n = super.read(b, off, (int) Math.min(len, remaining));
      if (n > 0) {
        remaining -= n;
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      long skipped = super.skip(Math.min(n, remaining));
      remaining -= skipped;
      return skipped;
    }

    @Override
    public int available() throws IOException {
      return (int) Math.min(super.available(), remaining);
    }
  }
}

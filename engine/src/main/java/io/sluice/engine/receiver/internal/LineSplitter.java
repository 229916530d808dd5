package io.sluice.engine.receiver.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Cuts a byte stream into UTF-8 lines ended by {@code \n}, {@code \r\n} or {@code \r} (as {@link
 * java.io.BufferedReader#readLine()} does), across reads of any size: a line end never occurs
 * inside a multi-byte UTF-8 character, so the bytes are split before decoding. Unlike a reader over
 * a socket with a read timeout, it loses nothing when a read times out: the unfinished line is kept
 * here until its end arrives. Not thread-safe: one connection's reading thread owns it.
 */
final class LineSplitter {

  /** Receives each complete line. */
  @FunctionalInterface
  interface LineSink {
    void line(String line) throws IOException;
  }

  private final int maxLineBytes;
  private byte[] partial = new byte[128];
  private int partialLength;
  private boolean skipLineFeed;

  /** A splitter refusing lines longer than {@code maxLineBytes}. */
  LineSplitter(int maxLineBytes) {
    this.maxLineBytes = maxLineBytes;
  }

  /**
   * Hands every line completed by {@code bytes[offset, offset + length)} to {@code sink}, in order,
   * and keeps the unfinished rest.
   *
   * @throws IOException from the sink, or when a line grows past the limit
   */
  void feed(byte[] bytes, int offset, int length, LineSink sink) throws IOException {
    int start = offset;
    int end = offset + length;
    for (int i = offset; i < end; i++) {
      byte b = bytes[i];
      if (skipLineFeed) {
        skipLineFeed = false;
        if (b == '\n') {
          start = i + 1;
          continue;
        }
      }
      if (b == '\n' || b == '\r') {
        skipLineFeed = b == '\r';
        String line = take(bytes, start, i);
        start = i + 1;
        sink.line(line);
      }
    }
    keep(bytes, start, end);
  }

  /** Whether bytes of an unfinished line are kept. */
  boolean hasPartialLine() {
    return partialLength > 0;
  }

  /** The unfinished line kept so far (bytes after the last line end), emptied. */
  String takePartialLine() {
    return take(partial, 0, 0);
  }

  private String take(byte[] bytes, int from, int to) {
    String line;
    if (partialLength == 0) {
      line = new String(bytes, from, to - from, StandardCharsets.UTF_8);
    } else {
      byte[] all = Arrays.copyOf(partial, partialLength + (to - from));
      System.arraycopy(bytes, from, all, partialLength, to - from);
      line = new String(all, StandardCharsets.UTF_8);
      partialLength = 0;
    }
    return line;
  }

  private void keep(byte[] bytes, int from, int to) throws IOException {
    int n = to - from;
    if (n == 0) {
      return;
    }
    if (partialLength + n > maxLineBytes) {
      throw new IOException(
          "a line is longer than " + maxLineBytes + " bytes without a line end; refused");
    }
    if (partialLength + n > partial.length) {
      partial = Arrays.copyOf(partial, Math.max(partialLength + n, partial.length * 2));
    }
    System.arraycopy(bytes, from, partial, partialLength, n);
    partialLength += n;
  }
}

package io.sluice.engine.state.internal;

import java.nio.file.Path;

/**
 * A state file that cannot be trusted: truncated, failing a checksum, or inconsistent with its
 * name. Checked, so recovery decides whether an older snapshot can stand in for it.
 */
final class DamagedStateFileException extends Exception {

  private static final long serialVersionUID = 1L;

  private final transient Path file;

  DamagedStateFileException(Path file, String problem) {
    super(file.getFileName() + " " + problem);
    this.file = file;
  }

  Path file() {
    return file;
  }
}

package io.sluice.engine.state.internal;

import io.sluice.engine.CheckpointException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layout of the state root ({@code checkpointDir/state/}): one directory per state operator,
 * named after its stable name, holding one directory per partition, {@code
 * <operator>/<partition>/}. Names are encoded so any operator name is one safe directory name:
 * ASCII letters, digits, {@code _} and {@code -} stay, {@code .} stays except first, every other
 * UTF-8 byte becomes {@code %XX}. Also finds and drops orphaned state: operator directories no
 * operator of the application claims (renamed or removed in the code).
 *
 * <p>Stateless and thread-safe; the file-system methods block. Dropping must not run while a store
 * of the dropped operator is open.
 */
public final class StateDirectories {

  private static final Logger LOG = LoggerFactory.getLogger(StateDirectories.class);
  private static final String DROPPING = ".dropping-";
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private StateDirectories() {}

  /** The directory of {@code operator}'s state under {@code stateRoot}. */
  public static Path operatorDir(Path stateRoot, String operator) {
    return stateRoot.resolve(encode(operator));
  }

  /** The directory of one partition of {@code operator}'s state. */
  public static Path partitionDir(Path stateRoot, String operator, int partition) {
    if (partition < 0) {
      throw new IllegalArgumentException("partition must be >= 0, was " + partition);
    }
    return operatorDir(stateRoot, operator).resolve(Integer.toString(partition));
  }

  /** {@code operator} as one directory name; reversible by {@link #decode}. */
  public static String encode(String operator) {
    if (operator == null || operator.isEmpty()) {
      throw new IllegalArgumentException("a state operator needs a non-empty name");
    }
    StringBuilder out = new StringBuilder(operator.length());
    byte[] bytes = operator.getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < bytes.length; i++) {
      int b = bytes[i] & 0xff;
      boolean plain =
          (b >= 'a' && b <= 'z')
              || (b >= 'A' && b <= 'Z')
              || (b >= '0' && b <= '9')
              || b == '_'
              || b == '-'
              || (b == '.' && i > 0);
      if (plain) {
        out.append((char) b);
      } else {
        out.append('%').append(HEX[b >> 4]).append(HEX[b & 0xf]);
      }
    }
    return out.toString();
  }

  /** The operator name of a directory name made by {@link #encode}. */
  public static String decode(String dirName) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(dirName.length());
    for (int i = 0; i < dirName.length(); i++) {
      char c = dirName.charAt(i);
      if (c == '%' && i + 2 < dirName.length()) {
        out.write(Integer.parseInt(dirName.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        out.write(c);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /**
   * The operators with state under {@code stateRoot} that are not in {@code operators}, sorted by
   * name; empty when the root does not exist.
   */
  public static List<String> orphans(Path stateRoot, Set<String> operators) {
    Set<String> orphaned = new TreeSet<>();
    for (String name : operatorDirNames(stateRoot)) {
      String operator = decode(name);
      if (!operators.contains(operator)) {
        orphaned.add(operator);
      }
    }
    return new ArrayList<>(orphaned);
  }

  /**
   * Refuses orphaned state unless {@code drop}: with {@code drop}, deletes it with a warning.
   *
   * @throws CheckpointException naming every orphaned operator and its directory
   */
  public static void checkOrphans(Path stateRoot, Set<String> operators, boolean drop) {
    List<String> orphaned = orphans(stateRoot, operators);
    if (orphaned.isEmpty()) {
      return;
    }
    if (drop) {
      LOG.warn(
          "Dropping the state of operators {} in {}: the application has none of them",
          orphaned,
          stateRoot);
      drop(stateRoot, orphaned);
      return;
    }
    List<String> described = new ArrayList<>();
    for (String o : orphaned) {
      described.add("'" + o + "' (" + operatorDir(stateRoot, o) + ")");
    }
    throw new CheckpointException(
        "the checkpoint holds state of operators the application no longer has: "
            + String.join(", ", described)
            + ". A state operator was renamed or removed; restore its old name to keep its state,"
            + " or allow dropping orphaned state to delete it");
  }

  /**
   * Deletes the state of {@code operators}. Each directory is first renamed aside in one atomic
   * step, so a crash midway never leaves half of an operator's state under its name; leftovers of
   * an interrupted drop are deleted by the next drop.
   */
  public static void drop(Path stateRoot, Collection<String> operators) {
    if (!Files.isDirectory(stateRoot)) {
      return;
    }
    for (String operator : operators) {
      Path dir = operatorDir(stateRoot, operator);
      if (Files.isDirectory(dir)) {
        Path aside = stateRoot.resolve(DROPPING + dir.getFileName());
        StateFiles.move(dir, aside);
        StateFiles.forceDirectory(stateRoot);
      }
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(stateRoot, DROPPING + "*")) {
      for (Path aside : entries) {
        deleteTree(aside);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list state root " + stateRoot, e);
    }
  }

  private static List<String> operatorDirNames(Path stateRoot) {
    List<String> names = new ArrayList<>();
    if (!Files.isDirectory(stateRoot)) {
      return names;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(stateRoot)) {
      for (Path e : entries) {
        String name = e.getFileName().toString();
        if (Files.isDirectory(e) && !name.startsWith(".")) {
          names.add(name);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list state root " + stateRoot, e);
    }
    return names;
  }

  private static void deleteTree(Path root) throws IOException {
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
              throws IOException {
            Files.delete(file);
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
            if (exc != null) {
              throw exc;
            }
            Files.delete(dir);
            return FileVisitResult.CONTINUE;
          }
        });
  }
}

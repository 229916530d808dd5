package io.sluice.it.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.it.chaos.ChaosRun.Kind;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import io.sluice.testkit.EmbeddedPostgresDatabase;
import io.sluice.testkit.EmbeddedPostgresExtension;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A damaged checkpoint never costs exactly-once, nor a manual repair: the pipeline JVM (JDBC sink
 * with the JDBC offset store, or the exactly-once KafkaSink committing to the consumer group) runs
 * over part of the input and is SIGKILLed (or, where the damage needs the newest batch committed,
 * stopped gracefully), its checkpoint directory is damaged, and one restart must process the rest
 * by itself: every input number exactly once in PostgreSQL, or in the output topic read with
 * read_committed. The offset store is the one truth for where the stream stands, so a checkpoint
 * that lost entries, lost files or went back in time only costs WARNs.
 *
 * <p>N is small ({@code -Dsluice.it.damageRecords}, default 2000) and batches are rate-limited to
 * 80 records, so every case stops mid-input and the suite stays short. N spans 25 batches (5 s): a
 * cold pipeline JVM whose first batch takes seconds has that many batches due at once and runs them
 * back to back, and with 800 (10 batches) one such run committed all its input before the kill,
 * leaving nothing for the restart.
 */
@ExtendWith({EmbeddedKafkaExtension.class, EmbeddedPostgresExtension.class})
class CheckpointDamageTest {

  static final long N = Long.getLong("sluice.it.damageRecords", 2000);
  static final String INPUT = "chaos-damage-input";
  static final long INTERVAL_MS = 200;

  /** Records per second and partition: 20 per partition and 80 per batch of 200 ms. */
  static final long RATE = 100;

  static final long PER_BATCH = ChaosRun.PARTITIONS * RATE * INTERVAL_MS / 1000;

  private static final Pattern BATCH_ID = Pattern.compile("\"batchId\":(\\d+)");

  @TempDir Path tmp;

  @BeforeAll
  static void produceInput(EmbeddedKafka kafka) {
    ChaosRun.produceInput(kafka, INPUT, N);
  }

  /** What is done to the checkpoint directory of the killed pipeline. */
  enum Damage {
    /**
     * The newest batches.log line cut mid-line, after its batch committed (store and commits.log).
     */
    TORN_LAST_BATCH_LINE(true),
    /**
     * One byte of the newest batches.log line flipped, after its batch committed: its checksum
     * fails.
     */
    FLIPPED_BYTE_IN_LAST_BATCH_LINE(true),
    /** The directory replaced by a copy taken a few batches before the kill. */
    OLDER_COPY(false),
    /** commits.log deleted. */
    COMMITS_LOG_DELETED(false),
    /** batches.log deleted. */
    BATCHES_LOG_DELETED(false),
    /** Both logs deleted. */
    BOTH_LOGS_DELETED(false);

    /** Whether the kill must leave the newest planned batch committed. */
    final boolean needsCommittedTail;

    Damage(boolean needsCommittedTail) {
      this.needsCommittedTail = needsCommittedTail;
    }

    String slug() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * Every pipeline with every damage; {@code -Dsluice.it.damageCases=JDBC:OLDER_COPY,KAFKA} selects
   * some.
   */
  static Stream<Arguments> cases() {
    List<String> only =
        Arrays.stream(System.getProperty("sluice.it.damageCases", "").split(","))
            .map(String::trim)
            .filter(x -> !x.isEmpty())
            .toList();
    return Arrays.stream(Kind.values())
        .flatMap(
            k ->
                Arrays.stream(Damage.values())
                    .filter(
                        d ->
                            only.isEmpty()
                                || only.contains(k.name())
                                || only.contains(k.name() + ":" + d.name()))
                    .map(d -> Arguments.of(k, d)));
  }

  @ParameterizedTest(name = "{0} pipeline, {1}")
  @MethodSource("cases")
  void restartAfterADamagedCheckpointIsExactlyOnceAndNeedsNoRepair(
      Kind kind, Damage damage, EmbeddedKafka kafka, EmbeddedPostgresDatabase pg) {
    // Short names: the JDBC table and the consumer group derive from them.
    String name = "dmg-" + kind.name().toLowerCase(Locale.ROOT) + "-" + damage.ordinal();
    ChaosRun run =
        new ChaosRun(kind, kafka, pg, INPUT, N, name, tmp.resolve("run")).rate(INTERVAL_MS, RATE);
    Path checkpoint = run.dir().resolve("checkpoint");
    Path backup = tmp.resolve("older-copy");
    Path stopFile = tmp.resolve("stop");
    run.arg("stopFile", stopFile);
    long t0 = System.nanoTime();
    Faults.withLogOnFailure(
        run,
        () -> {
          String stopped = runThenStop(run, damage, checkpoint, backup, stopFile);
          assertThat(run.committedInput())
              .as("[%s] input committed when the checkpoint is damaged", name)
              .isLessThan(N);
          String damaged = damage(damage, checkpoint, backup, run);
          System.out.printf("[%s] %s: %s; %s%n", name, damage, stopped, damaged);

          long restart = System.nanoTime();
          run.runToCompletion(Duration.ofSeconds(90), 0, null);
          run.assertExactlyOnce();
          Faults.assertNoSelfExits(run);
          String restartLog = lastRun(run.log());
          assertThat(restartLog)
              .as("[%s] the restarted run's log", name)
              .contains(ChaosPipeline.STARTED)
              .doesNotContain("CHAOS_PIPELINE_FAILED")
              .doesNotContain("BATCH_FAILED");
          if (damage == Damage.TORN_LAST_BATCH_LINE
              || damage == Damage.FLIPPED_BYTE_IN_LAST_BATCH_LINE) {
            assertThat(restartLog)
                .as("[%s] the bad last line is noticed and cut off", name)
                .contains(
                    "Ignoring a torn or corrupt last entry in "
                        + checkpoint.resolve("batches.log"));
          }
          System.out.printf(
              "%s; damage %s, restart to completion %.1f s, case %.1f s%n",
              run.summary(),
              damage,
              (System.nanoTime() - restart) / 1e9,
              (System.nanoTime() - t0) / 1e9);
          System.out.printf(
              "[%s] restart log lines of interest:%n%s%n", name, linesOfInterest(restartLog));
        });
  }

  /**
   * Runs the pipeline over part of the input and stops it. For a damage of the newest batches.log
   * line after its batch committed, the pipeline is stopped gracefully once batch 2 is planned (a
   * stop file; every planned batch runs and commits, the JVM exits with 0), and the test checks
   * that the store and commits.log hold the newest planned batch. Otherwise it is SIGKILLed once
   * three batches committed, wherever the batches in flight stand; for {@link Damage#OLDER_COPY}
   * the checkpoint is copied after the first committed batch. Returns what the stop left.
   */
  private static String runThenStop(
      ChaosRun run, Damage damage, Path checkpoint, Path backup, Path stopFile) {
    Path batches = checkpoint.resolve("batches.log");
    Path commits = checkpoint.resolve("commits.log");
    String how;
    try (PipelineProcess p = run.launch()) {
      if (damage.needsCommittedTail) {
        // Once batch 2 is planned: the graceful stop runs every planned batch, and a cold JVM plans
        // several
        // while it runs its first one, so waiting for commits could leave no input for the restart.
        try {
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(10))
              .until(() -> !p.isAlive() || lastId(batches, false) >= 2);
        } catch (ConditionTimeoutException e) {
          throw new AssertionError("[" + run.appName() + "] batch 2 not planned within 60 s", e);
        }
        assertThat(p.isAlive()).as("[%s] pipeline running", run.appName()).isTrue();
        create(stopFile);
        try {
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(10))
              .until(() -> !p.isAlive());
        } catch (ConditionTimeoutException e) {
          throw new AssertionError(
              "[" + run.appName() + "] no graceful stop within 30 s of the stop file", e);
        }
        assertThat(p.exitValue())
            .as("[%s] exit code of the gracefully stopped pipeline", run.appName())
            .isZero();
        assertThat(p.output()).contains(ChaosPipeline.STOPPING).contains(ChaosPipeline.STOPPED);
        delete(stopFile);
        how = "stopped gracefully";
      } else {
        long target = 3 * PER_BATCH;
        if (damage == Damage.OLDER_COPY) {
          awaitCommitted(run, p, 1);
          copyTree(checkpoint, backup);
          // Until the store is past every batch the copy planned (a cold JVM plans a few ahead), so
          // that
          // the copy is behind in plans too; input is left for the restart.
          long copiedPlanned = lastId(backup.resolve("batches.log"), false);
          target =
              Math.min(
                  Math.max(run.committedInput() + 3 * PER_BATCH, (copiedPlanned + 3) * PER_BATCH),
                  N - 2 * PER_BATCH);
        }
        awaitCommitted(run, p, target);
        assertThat(p.kill())
            .as("exit code of the SIGKILLed pipeline")
            .isEqualTo(PipelineProcess.SIGKILL_EXIT);
        run.kills++;
        how = "killed at " + p.position();
      }
    }
    long planned = lastId(batches, false);
    long logged = lastId(commits, true);
    long stored = run.sinkBatchId();
    if (damage.needsCommittedTail) {
      assertThat(List.of(logged, stored))
          .as(
              "[%s] commits.log's and the store's batch after the graceful stop, vs"
                  + " the newest planned batch %d",
              run.appName(), planned)
          .allSatisfy(id -> assertThat(id).isEqualTo(planned));
    }
    return String.format(
        "%s with batches.log at batch %d, commits.log at %d, the store at batch %d (%d of %d input"
            + " records committed)",
        how, planned, logged, stored, run.committedInput(), N);
  }

  private static void awaitCommitted(ChaosRun run, PipelineProcess p, long atLeast) {
    try {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(10))
          .until(() -> !p.isAlive() || run.committedInput() >= atLeast);
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "["
              + run.appName()
              + "] committed input stayed below "
              + atLeast
              + " for 60 s: "
              + run.committedInput(),
          e);
    }
    assertThat(p.isAlive())
        .as(
            "[%s] pipeline running (exit code %s)",
            run.appName(), p.isAlive() ? "-" : p.exitValue())
        .isTrue();
  }

  private static void create(Path file) {
    try {
      Files.createFile(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path file) {
    try {
      Files.delete(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Applies {@code damage}; returns what was done. */
  private static String damage(Damage damage, Path checkpoint, Path backup, ChaosRun run) {
    Path batches = checkpoint.resolve("batches.log");
    Path commits = checkpoint.resolve("commits.log");
    try {
      switch (damage) {
        case TORN_LAST_BATCH_LINE -> {
          byte[] bytes = Files.readAllBytes(batches);
          int start = lastLineStart(bytes);
          int cut = start + (bytes.length - start) / 2;
          Files.write(batches, Arrays.copyOf(bytes, cut));
          return "cut batches.log's last line (batch "
              + idOf(bytes, start)
              + ") after "
              + (cut - start)
              + " of its "
              + (bytes.length - start)
              + " bytes";
        }
        case FLIPPED_BYTE_IN_LAST_BATCH_LINE -> {
          byte[] bytes = Files.readAllBytes(batches);
          int start = lastLineStart(bytes);
          // Inside the JSON, past the 8 hex digits of the checksum and the space.
          int at = start + 9 + (bytes.length - 1 - start - 9) / 2;
          long id = idOf(bytes, start);
          byte before = bytes[at];
          bytes[at] ^= 0x01;
          Files.write(batches, bytes);
          return String.format(
              "flipped byte %d of batches.log (in the line of batch %d) from '%c' to '%c'",
              at, id, (char) before, (char) bytes[at]);
        }
        case OLDER_COPY -> {
          long copiedPlanned = lastId(backup.resolve("batches.log"), false);
          long copiedCommitted = lastId(backup.resolve("commits.log"), true);
          long stored = run.sinkBatchId();
          assertThat(copiedCommitted)
              .as("commits.log of the older copy vs the store's batch")
              .isLessThan(stored - 1);
          String was =
              "planned through batch "
                  + lastId(batches, false)
                  + ", committed through "
                  + lastId(commits, true);
          deleteTree(checkpoint);
          copyTree(backup, checkpoint);
          return "replaced the checkpoint ("
              + was
              + ") by the copy taken after the first commit (planned through"
              + " batch "
              + copiedPlanned
              + ", committed through "
              + copiedCommitted
              + ")";
        }
        case COMMITS_LOG_DELETED -> {
          Files.delete(commits);
          return "deleted commits.log";
        }
        case BATCHES_LOG_DELETED -> {
          Files.delete(batches);
          return "deleted batches.log";
        }
        case BOTH_LOGS_DELETED -> {
          Files.delete(batches);
          Files.delete(commits);
          return "deleted batches.log and commits.log";
        }
        default -> throw new IllegalArgumentException(damage.toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Where the file's last complete line starts; the file must end with a newline. */
  private static int lastLineStart(byte[] bytes) {
    assertThat(bytes.length).as("batches.log size").isGreaterThan(10);
    assertThat(bytes[bytes.length - 1])
        .as("batches.log ends with a complete line")
        .isEqualTo((byte) '\n');
    int i = bytes.length - 2;
    while (i >= 0 && bytes[i] != '\n') {
      i--;
    }
    return i + 1;
  }

  private static long idOf(byte[] bytes, int lineStart) {
    Matcher m =
        BATCH_ID.matcher(
            new String(bytes, lineStart, bytes.length - lineStart, StandardCharsets.UTF_8));
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /**
   * The batch id of the last complete line of a checkpoint log ({@code max}: the highest id of all
   * its lines), -1 when it has none or does not exist.
   */
  static long lastId(Path log, boolean max) {
    if (!Files.exists(log)) {
      return -1;
    }
    String text;
    try {
      text = Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      return -1;
    }
    OptionalLong result = OptionalLong.empty();
    for (String line : text.substring(0, end).split("\n")) {
      Matcher m = BATCH_ID.matcher(line);
      if (m.find()) {
        long id = Long.parseLong(m.group(1));
        result = OptionalLong.of(max && result.isPresent() ? Math.max(result.getAsLong(), id) : id);
      }
    }
    return result.orElse(-1);
  }

  /** Copies a checkpoint directory, without its lock file. */
  static void copyTree(Path from, Path to) {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path p : paths.toList()) {
        if (p.getFileName().toString().equals(".lock")) {
          continue;
        }
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The part of the pipeline log written by its last launch. */
  private static String lastRun(Path log) {
    try {
      String all = Files.readString(log, StandardCharsets.UTF_8);
      int at = all.lastIndexOf("===== start ");
      return at < 0 ? all : all.substring(at);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String linesOfInterest(String log) {
    return String.join(
        "\n",
        log.lines()
            .filter(
                l ->
                    l.contains(" WARN ")
                        || l.contains("replays")
                        || l.contains("replaying")
                        || l.contains("continues")
                        || l.contains("starts at")
                        || l.contains("new batches continue"))
            .map(l -> "  " + l)
            .toList());
  }
}

package io.sluice.bench;

import io.sluice.engine.SystemClock;
import io.sluice.engine.receiver.internal.WalSettings;
import io.sluice.engine.receiver.internal.WriteAheadLog;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The receivers' write-ahead log on this machine's disk: blocks of {@code --records-per-block}
 * records of {@code --record-bytes} bytes each (framed as the receiver stream frames them: a count,
 * then each record's length and bytes), appended and made durable two ways:
 *
 * <ul>
 *   <li>{@code fsync-per-block}: one writer, {@link WriteAheadLog#appendAndSync} per block, as a
 *       receiver's {@code store(List)} does today: each block waits for its own fsync.
 *   <li>{@code group-commit-10ms}: {@code --writers} writers (receivers) each append a block with
 *       {@link WriteAheadLog#appendAsync} and wait for it to be durable; the log's syncer forces it
 *       at most once per 10 ms, so the writers' blocks share fsyncs.
 *   <li>{@code group-commit-10ms streaming}: one writer appending without waiting for each block
 *       (only for the last), the log's syncer forcing every 10 ms: the log's raw throughput.
 * </ul>
 *
 * <p>Reports MB/s and records/s of durable data and the fsyncs per second; each figure is the
 * median of {@code --passes} passes after {@code --warmup} passes. The log lives under {@code
 * --dir} (by default {@code target/wal-bench}, on the disk the checkpoint directory would use, not
 * a tmpfs). Nothing asserts a time.
 */
@Command(
    name = "WalBench",
    mixinStandardHelpOptions = true,
    description = "Receiver write-ahead log throughput: fsync per block vs 10 ms group commit.")
public final class WalBench implements Callable<Integer> {

  @Option(names = "--dir", description = "Where the log is written, default ${DEFAULT-VALUE}.")
  Path dir = Path.of("target", "wal-bench");

  @Option(names = "--records-per-block", description = "Default ${DEFAULT-VALUE}.")
  int recordsPerBlock = 1_000;

  @Option(names = "--record-bytes", description = "Default ${DEFAULT-VALUE}.")
  int recordBytes = 100;

  @Option(names = "--seconds", description = "Length of one pass, default ${DEFAULT-VALUE}.")
  double seconds = 5;

  @Option(names = "--writers", description = "Writers for group commit, default ${DEFAULT-VALUE}.")
  int writers = 4;

  @Option(names = "--warmup", description = "Warm-up passes, default ${DEFAULT-VALUE}.")
  int warmup = 1;

  @Option(names = "--passes", description = "Measured passes, default ${DEFAULT-VALUE}.")
  int passes = 5;

  private final PrintStream out = System.out;

  /** Runs the bench. */
  public static void main(String[] args) {
    System.exit(new CommandLine(new WalBench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    byte[] block = block();
    out.printf(
        Locale.ROOT,
        "WalBench: blocks of %d records x %d bytes (%d bytes framed), %.1f s passes, dir %s%n",
        recordsPerBlock,
        recordBytes,
        block.length,
        seconds,
        dir.toAbsolutePath());
    List<double[]> perBlock = new ArrayList<>();
    double mbPerBlock =
        Passes.median(
            out,
            "fsync-per-block (1 writer)",
            "MB/s",
            warmup,
            passes,
            () -> record(perBlock, run(block, 1, Duration.ZERO, true)));
    List<double[]> grouped = new ArrayList<>();
    double mbGrouped =
        Passes.median(
            out,
            "group-commit-10ms (" + writers + " writers)",
            "MB/s",
            warmup,
            passes,
            () -> record(grouped, run(block, writers, Duration.ofMillis(10), true)));
    List<double[]> streamed = new ArrayList<>();
    double mbStreamed =
        Passes.median(
            out,
            "group-commit-10ms (1 writer, not waiting)",
            "MB/s",
            warmup,
            passes,
            () -> record(streamed, run(block, 1, Duration.ofMillis(10), false)));
    report("fsync-per-block", mbPerBlock, perBlock);
    report("group-commit-10ms, " + writers + " writers", mbGrouped, grouped);
    report("group-commit-10ms, 1 writer streaming", mbStreamed, streamed);
    return 0;
  }

  private double record(List<double[]> figures, double[] pass) {
    figures.add(pass);
    return pass[0];
  }

  private void report(String name, double mbMedian, List<double[]> all) {
    List<double[]> measured = all.subList(Math.max(0, all.size() - passes), all.size());
    out.printf(
        Locale.ROOT,
        "%-36s median %8.1f MB/s  %,12.0f records/s  %,8.0f fsyncs/s%n",
        name,
        mbMedian,
        median(measured, 1),
        median(measured, 2));
  }

  private static double median(List<double[]> figures, int index) {
    List<Double> values = new ArrayList<>();
    for (double[] f : figures) {
      values.add(f[index]);
    }
    return Passes.median(values);
  }

  /** One pass: {MB/s, records/s, fsyncs/s} of durable blocks. */
  private double[] run(byte[] block, int writerCount, Duration syncInterval, boolean waitEach)
      throws Exception {
    Path logDir = dir.resolve("pass-" + System.nanoTime());
    WalSettings settings = WalSettings.defaults().withSyncInterval(syncInterval);
    long blocks;
    long syncs;
    long start;
    long elapsed;
    try (WriteAheadLog wal = WriteAheadLog.open("bench", logDir, settings, SystemClock.INSTANCE)) {
      long deadline = System.nanoTime() + (long) (seconds * 1e9);
      long[] counts = new long[writerCount];
      List<Thread> threads = new ArrayList<>();
      start = System.nanoTime();
      for (int w = 0; w < writerCount; w++) {
        int id = w;
        Thread t =
            new Thread(
                () -> {
                  long n = 0;
                  CompletableFuture<?> last = CompletableFuture.completedFuture(null);
                  while (System.nanoTime() < deadline) {
                    if (syncInterval.isZero()) {
                      wal.appendAndSync(block);
                    } else {
                      last = wal.appendAsync(block);
                      if (waitEach) {
                        last.join();
                      }
                    }
                    n++;
                  }
                  last.join();
                  counts[id] = n;
                },
                "wal-bench-writer-" + w);
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
      elapsed = System.nanoTime() - start;
      blocks = 0;
      for (long c : counts) {
        blocks += c;
      }
      syncs = wal.syncCount();
    } finally {
      BenchData.deleteTree(logDir);
    }
    double secs = elapsed / 1e9;
    return new double[] {
      blocks * (double) block.length / secs / 1e6,
      blocks * (double) recordsPerBlock / secs,
      syncs / secs
    };
  }

  private byte[] block() {
    ByteBuffer buf = ByteBuffer.allocate(4 + recordsPerBlock * (4 + recordBytes));
    buf.putInt(recordsPerBlock);
    byte[] record = new byte[recordBytes];
    for (int i = 0; i < recordsPerBlock; i++) {
      ThreadLocalRandom.current().nextBytes(record);
      buf.putInt(recordBytes).put(record);
    }
    return buf.array();
  }
}

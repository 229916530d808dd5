package io.sluice.engine.receiver.internal;

import io.sluice.engine.SystemClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Prints rough write-ahead log throughput on this machine's disk (not assertions), 100-byte
 * records: an fsync per 1,000-record block (the block as 1,000 appends, and as one 100 kB record,
 * the way a block generator writes it), and a 10 ms group commit of single-record async appends.
 * Run with {@code -Dsluice.wal.figures=true}; the bench module will hold the real benchmark.
 */
@EnabledIfSystemProperty(named = "sluice.wal.figures", matches = "true")
class WalFigures {

  private static final int RECORD = 100;
  private static final int BLOCK = 1000;
  private static final int RECORDS = 2_000_000;

  @TempDir Path tmp;

  @Test
  void figures() {
    for (int run = 0; run < 3; run++) {
      blockOfAppendsThenSync(tmp.resolve("a" + run));
      blockAsOneRecord(tmp.resolve("b" + run));
      groupCommit(tmp.resolve("c" + run));
    }
  }

  private void blockOfAppendsThenSync(Path dir) {
    byte[] r = record();
    try (WriteAheadLog wal = open(dir, Duration.ZERO)) {
      long t0 = System.nanoTime();
      for (int i = 1; i <= RECORDS; i++) {
        wal.append(r);
        if (i % BLOCK == 0) {
          wal.sync();
        }
      }
      print("1000 appends + fsync per block", t0, RECORDS, wal);
    }
  }

  private void blockAsOneRecord(Path dir) {
    byte[] block = new byte[RECORD * BLOCK];
    new Random(1).nextBytes(block);
    try (WriteAheadLog wal = open(dir, Duration.ZERO)) {
      long t0 = System.nanoTime();
      for (int i = 0; i < RECORDS / BLOCK; i++) {
        wal.appendAndSync(block);
      }
      print("block as one 100 kB record + fsync", t0, RECORDS, wal);
    }
  }

  private void groupCommit(Path dir) {
    byte[] r = record();
    try (WriteAheadLog wal = open(dir, Duration.ofMillis(10))) {
      long t0 = System.nanoTime();
      List<CompletableFuture<WalPointer>> window = new ArrayList<>();
      for (int i = 1; i <= RECORDS; i++) {
        window.add(wal.appendAsync(r));
        if (window.size() == 100_000) {
          window.get(0).join();
          window.clear();
        }
      }
      if (!window.isEmpty()) {
        window.get(window.size() - 1).join();
      }
      print("async appends, 10 ms group commit", t0, RECORDS, wal);
    }
  }

  private static WriteAheadLog open(Path dir, Duration syncInterval) {
    return WriteAheadLog.open(
        "figures",
        dir,
        WalSettings.defaults().withSyncInterval(syncInterval),
        SystemClock.INSTANCE);
  }

  private static byte[] record() {
    byte[] r = new byte[RECORD];
    new Random(7).nextBytes(r);
    return r;
  }

  private static void print(String what, long t0, long records, WriteAheadLog wal) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    double mb = records * (double) RECORD / (1 << 20);
    System.out.printf(
        "WAL %-36s %,10.0f records/s %7.1f MB/s (payload) %6d fsyncs in %.2f s%n",
        what, records / seconds, mb / seconds, wal.syncCount(), seconds);
  }
}

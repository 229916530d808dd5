package io.sluice.sinks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.rdd.RDD;
import io.sluice.offsets.OffsetStore;
import io.sluice.offsets.OffsetStores;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSinkTest {

  private final StreamingContext ctx =
      StreamingContext.builder()
          .appName("file-sink-test")
          .batchInterval(Duration.ofMillis(500))
          .parallelism(2)
          .build();

  @TempDir Path dir;

  @AfterEach
  void stop() {
    ctx.stop(false);
  }

  private FileSink<String> open(FileSink<String> sink) throws Exception {
    sink.open(ctx);
    return sink;
  }

  private List<String> entries() throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private static List<String> lines(Path batchDir) throws Exception {
    List<String> all = new ArrayList<>();
    try (Stream<Path> s = Files.list(batchDir)) {
      for (Path p :
          s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) {
        all.addAll(Files.readAllLines(p));
      }
    }
    return all;
  }

  @Test
  void writesOneDirectoryPerBatchWithPartFilesAndManifest() throws Exception {
    FileSink<String> sink =
        open(FileSink.<String>builder().directory(dir).format(s -> "v=" + s).build());

    sink.write(
        ctx.parallelize(List.of("a", "b", "c", "d", "e"), 3), TestOffsets.batch(7, "g", "orders"));

    Path batchDir = dir.resolve("batch=7");
    assertThat(entries()).containsExactly("batch=7");
    try (Stream<Path> s = Files.list(batchDir)) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted())
          .containsExactly("_MANIFEST.json", "part-00000", "part-00001", "part-00002");
    }
    assertThat(lines(batchDir)).containsExactly("v=a", "v=b", "v=c", "v=d", "v=e");
    JsonNode manifest = new ObjectMapper().readTree(batchDir.resolve(FileSink.MANIFEST).toFile());
    assertThat(manifest.get("v").asInt()).isEqualTo(1);
    assertThat(manifest.get("batchId").asLong()).isEqualTo(7);
    assertThat(manifest.get("time").asText())
        .isEqualTo(TestOffsets.batch(7, "g", "orders").time().toString());
    assertThat(manifest.get("records").asLong()).isEqualTo(5);
    assertThat(manifest.get("files")).hasSize(3);
    assertThat(manifest.get("files").get(0).get("name").asText()).isEqualTo("part-00000");
    assertThat(manifest.get("files").get(0).get("records").asLong()).isEqualTo(1);
    assertThat(manifest.get("files").get(2).get("records").asLong()).isEqualTo(2);
    assertThat(manifest.get("ranges")).hasSize(2);
    assertThat(manifest.get("ranges").get(0).get("topic").asText()).isEqualTo("orders");
    assertThat(manifest.get("ranges").get(0).get("from").asLong()).isEqualTo(70);
    assertThat(manifest.get("ranges").get(0).get("until").asLong()).isEqualTo(80);
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.IDEMPOTENT);
  }

  @Test
  void writingABatchIdAgainReplacesItsDirectory() throws Exception {
    FileSink<String> sink = open(FileSink.<String>builder().directory(dir).build());
    sink.write(ctx.parallelize(List.of("a", "b", "c", "d"), 4), TestOffsets.batch(0, "g", "t"));
    sink.write(ctx.parallelize(List.of("x"), 1), TestOffsets.batch(1, "g", "t"));

    sink.write(ctx.parallelize(List.of("a", "b", "c", "d"), 2), TestOffsets.batch(0, "g", "t"));

    assertThat(entries()).containsExactly("batch=0", "batch=1");
    try (Stream<Path> s = Files.list(dir.resolve("batch=0"))) {
      assertThat(s.map(p -> p.getFileName().toString()).sorted())
          .containsExactly("_MANIFEST.json", "part-00000", "part-00001");
    }
    assertThat(lines(dir.resolve("batch=0"))).containsExactly("a", "b", "c", "d");
    assertThat(lines(dir.resolve("batch=1"))).containsExactly("x");
  }

  @Test
  void batchBeingWrittenIsNeverVisibleAsABatchDirectory() throws Exception {
    FileSink<String> sink = open(FileSink.<String>builder().directory(dir).build());
    CountDownLatch release = new CountDownLatch(1);
    RDD<String> gated =
        ctx.parallelize(List.of("a", "b", "c", "d"), 2)
            .mapPartitionsWithIndex(
                (p, it) -> {
                  if (p == 1) {
                    release.await(30, TimeUnit.SECONDS);
                  }
                  return it;
                });

    CompletableFuture<Void> write =
        CompletableFuture.runAsync(
            () -> {
              try {
                sink.write(gated, TestOffsets.batch(3, "g", "t"));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> Files.exists(dir.resolve(".batch=3.tmp/part-00000")));
    assertThat(entries()).containsExactly(".batch=3.tmp");

    release.countDown();
    write.get(30, TimeUnit.SECONDS);
    assertThat(entries()).containsExactly("batch=3");
    assertThat(lines(dir.resolve("batch=3"))).containsExactly("a", "b", "c", "d");
  }

  @Test
  void openDeletesLeftoverTempDirectoriesAndRestoresADirectoryMovedAside() throws Exception {
    Files.createDirectories(dir.resolve(".batch=4.tmp"));
    Files.writeString(dir.resolve(".batch=4.tmp/part-00000"), "half\n");
    Files.createDirectories(dir.resolve(".batch=2.old"));
    Files.writeString(dir.resolve(".batch=2.old/part-00000"), "complete\n");
    Files.createDirectories(dir.resolve("batch=1"));
    Files.createDirectories(dir.resolve(".batch=1.old"));

    open(FileSink.<String>builder().directory(dir).build());

    assertThat(entries()).containsExactly("batch=1", "batch=2");
    assertThat(lines(dir.resolve("batch=2"))).containsExactly("complete");
  }

  @Test
  void commitsOffsetsAfterTheRenameAndRefusesToCommitABatchTwice() throws Exception {
    try (OffsetStore store = OffsetStores.file(dir.resolve("offsets"))) {
      FileSink<String> sink =
          open(FileSink.<String>builder().directory(dir.resolve("out")).offsetStore(store).build());
      sink.write(ctx.parallelize(List.of("a"), 1), TestOffsets.batch(0, "files-group", "t"));
      sink.write(ctx.parallelize(List.of("b"), 1), TestOffsets.batch(1, "files-group", "t"));
      // The engine never replays a batch its store covers; a sink asked to commit one twice
      // refuses.
      assertThatThrownBy(
              () ->
                  sink.write(
                      ctx.parallelize(List.of("b"), 1), TestOffsets.batch(1, "files-group", "t")))
          .isInstanceOf(SinkException.class)
          .hasMessageContaining("batch 1 is written but committing its" + " offsets")
          .hasMessageContaining("refused");

      assertThat(store.lastBatchId("files-group")).hasValue(1);
      assertThat(store.committed("files-group"))
          .containsEntry(new TopicPartition("t", 0), 20L)
          .containsEntry(new TopicPartition("t", 1), 10L);
      assertThat(lines(dir.resolve("out/batch=1"))).containsExactly("b");
    }
  }

  @Test
  void consoleSinkPrintsTheFirstRecordsOfEachBatch() throws Exception {
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    ConsoleSink<Integer> sink =
        ConsoleSink.create(
            3, new java.io.PrintStream(bytes, true, java.nio.charset.StandardCharsets.UTF_8));
    sink.open(ctx);
    sink.write(ctx.parallelize(List.of(1, 2, 3, 4, 5), 2), TestOffsets.batch(2, "g", "t"));
    sink.write(ctx.parallelize(List.of(9), 1), TestOffsets.batch(3, "g", "t"));

    String rule = "-------------------------------------------";
    assertThat(bytes.toString(java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(
            rule
                + "\nTime: "
                + TestOffsets.batch(2, "g", "t").time().toEpochMilli()
                + " ms (batch 2)\n"
                + rule
                + "\n1\n2\n3\n...\n\n"
                + rule
                + "\nTime: "
                + TestOffsets.batch(3, "g", "t").time().toEpochMilli()
                + " ms (batch 3)\n"
                + rule
                + "\n9\n\n");
    assertThat(sink.guarantee()).isEqualTo(DeliveryGuarantee.AT_LEAST_ONCE);
    assertThat(sink.exactlyOnceGaps()).isNotEmpty();
    assertThat(Sinks.<String>console()).isNotNull();
  }
}

package io.sluice.status;

import static io.sluice.status.StatusTestSupport.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.sluice.engine.BatchInfo;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.StreamingListener;
import io.sluice.kafka.direct.ConsumerStrategies;
import io.sluice.kafka.direct.DirectStreamOptions;
import io.sluice.kafka.direct.KafkaDirect;
import io.sluice.offsets.StartingOffsets;
import io.sluice.testkit.EmbeddedKafka;
import io.sluice.testkit.EmbeddedKafkaExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The page of a running pipeline in a real headless Chromium: its charts draw the batches, its lag
 * table lists every partition, its receivers table shows a receiver that failed once and its state
 * operators table the key count, and a forced failure shows up with its message. Saves {@code
 * target/status-page.png} (the README's screenshot is a copy of it).
 */
@ExtendWith(EmbeddedKafkaExtension.class)
class StatusPageBrowserTest {

  private static final int PARTITIONS = 3;
  private static final int BATCHES_BEFORE_FAILURE = 12;
  private static final String FAILURE = "forced failure: the orders sink is down";

  @Test
  void pageDrawsChartsListsEveryPartitionAndShowsTheFailedBatch(EmbeddedKafka kafka)
      throws Exception {
    Path target = Path.of("target").toAbsolutePath();
    Files.createDirectories(target.resolve("chromium-profile"));
    HeadlessChromium chromium =
        HeadlessChromium.find(target.resolve("chromium-profile")).orElse(null);
    if (chromium == null) {
      // CI installs chromium (.ci/run); a developer machine without it skips this test
      assertThat(System.getenv("CI")).as("chromium must be installed in CI").isNull();
      Assumptions.abort("chromium is not installed (apt-get install chromium)");
    }
    String topic = StatusTestSupport.topic("orders");
    kafka.createTopic(topic, PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++) {
      kafka.produce(records(topic, p, 200 + 300 * p));
    }
    StreamingContext ctx =
        StreamingContext.builder()
            .appName("orders-etl")
            .batchInterval(Duration.ofMillis(500))
            .parallelism(3)
            .blockInterval(Duration.ofMillis(50))
            .statusServer(0)
            .build();
    List<BatchInfo> completed = new CopyOnWriteArrayList<>();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    ctx.addStreamingListener(
        new StreamingListener() {
          @Override
          public void onBatchCompleted(BatchInfo batch) {
            completed.add(batch);
            // a load in waves, so records per batch and lag move: up to 2.5x what a batch reads
            int n = completed.size();
            for (int p = 0; p < PARTITIONS; p++) {
              kafka.produce(records(topic, p, (int) (120 + 100 * Math.sin(n / 2.0 + p))));
            }
          }

          @Override
          public void onBatchFailed(BatchInfo batch, Throwable cause) {
            failed.set(cause);
          }
        });
    AtomicBoolean sinkDown = new AtomicBoolean();
    KafkaDirect.<String, String>createDirectStream(
            ctx,
            ConsumerStrategies.subscribe(List.of(topic), kafka.consumerConfig("g-" + topic)),
            DirectStreamOptions.builder()
                .name("orders")
                .startingOffsets(StartingOffsets.earliest())
                .maxRatePerPartition(300)
                .build())
        .foreachBatch(
            "orders-sink",
            (rdd, batch) -> {
              long n = rdd.count();
              if (sinkDown.get() && n > 0) {
                throw new IllegalStateException(FAILURE);
              }
            });
    // a receiver stream that fails once, with a mapWithState over it, registered after "orders"
    ReceiversAndStateOperatorsStatusTest.pipeline(ctx);
    try {
      ctx.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> completed.size() >= BATCHES_BEFORE_FAILURE);
      String url = SluiceStatus.uri(ctx).orElseThrow().toString();

      // while running: every chart has points, the lag table every partition
      String running =
          awaitDom(
              chromium,
              url,
              dom ->
                  points(dom, "chart-total") >= 8
                      && row(dom, "data-receiver=\"ticks\"")
                          .contains("<td class=\"num records\">50</td>")
                      && row(dom, "data-operator=\"key-counts\"")
                          .contains("<td class=\"num keys\">7</td>"));
      assertThat(running).contains("class=\"badge active\"");
      // the receiver failed once and was restarted: its row says so, with the error
      assertThat(row(running, "data-receiver=\"ticks\""))
          .startsWith("<td>ticks</td><td>fails-once</td>")
          .contains("<span class=\"badge running\">running</span>")
          .contains("<td class=\"num records\">50</td>")
          .contains("<td class=\"num blocks\">4</td>")
          .contains("<td class=\"num restarts\">1</td>")
          .contains("<td class=\"num errors\">1</td>")
          .contains(ReceiversAndStateOperatorsStatusTest.ERROR);
      assertThat(row(running, "data-operator=\"key-counts\""))
          .isEqualTo(
              "<td>key-counts</td><td class=\"num partitions\">2</td>"
                  + "<td class=\"num keys\">7</td>");

      sinkDown.set(true);
      await().atMost(Duration.ofSeconds(30)).until(() -> failed.get() != null);
      int done = completed.size();
      String dom = awaitDom(chromium, url, d -> d.contains("<tr class=\"failed\""));

      for (String chart :
          List.of(
              "chart-scheduling",
              "chart-processing",
              "chart-total",
              "stream-0-records",
              "stream-0-rate")) {
        assertThat(points(dom, chart)).as(chart).isEqualTo(Math.min(done, 60));
      }
      assertThat(dom).contains("data-stream=\"orders\"");
      for (int p = 0; p < PARTITIONS; p++) {
        assertThat(dom).contains("<tr data-topic=\"" + topic + "\" data-partition=\"" + p + "\">");
      }
      Matcher failedRow =
          Pattern.compile("<tr class=\"failed\" data-batch=\"(\\d+)\">(.*?)</tr>").matcher(dom);
      assertThat(failedRow.find()).isTrue();
      assertThat(failedRow.group(2))
          .contains("<span class=\"badge failed\">failed</span>")
          .contains(FAILURE);
      assertThat(dom).contains("class=\"badge stopped\"");
      assertThat(dom).contains("<b id=\"failed\">1</b>");
      // the context stopped with the failure: so did its receiver, whose counts stay
      assertThat(row(dom, "data-receiver=\"ticks\""))
          .contains("<span class=\"badge stopped\">stopped</span>")
          .contains("<td class=\"num records\">50</td>")
          .contains("<td class=\"num restarts\">1</td>");
      assertThat(row(dom, "data-operator=\"key-counts\""))
          .contains("<td class=\"num keys\">7</td>");

      chromium.screenshot(url, target.resolve("status-page.png"), 1280, 2200, 4000);
      assertThat(Files.size(target.resolve("status-page.png"))).isGreaterThan(20_000);
    } finally {
      ctx.stop(false);
      SluiceStatus.close(ctx);
    }
  }

  private static String awaitDom(
      HeadlessChromium chromium, String url, java.util.function.Predicate<String> ready) {
    AtomicReference<String> last = new AtomicReference<>("");
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              String dom = chromium.dumpDom(url, 3000);
              last.set(dom);
              assertThat(dom).contains("data-ready=\"true\"");
              assertThat(ready.test(dom)).as("page condition, DOM:\n%s", dom).isTrue();
            });
    return last.get();
  }

  /** The cells of the table row with {@code attribute}, or "" when there is none. */
  private static String row(String dom, String attribute) {
    Matcher m = Pattern.compile("<tr " + Pattern.quote(attribute) + ">(.*?)</tr>").matcher(dom);
    return m.find() ? m.group(1) : "";
  }

  private static int points(String dom, String chartId) {
    Matcher m =
        Pattern.compile("id=\"" + Pattern.quote(chartId) + "\"[^>]*data-points=\"(\\d+)\"")
            .matcher(dom);
    return m.find() ? Integer.parseInt(m.group(1)) : -1;
  }
}

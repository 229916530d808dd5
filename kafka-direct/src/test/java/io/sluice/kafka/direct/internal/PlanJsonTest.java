package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.offsets.OffsetRange;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlanJsonTest {

  @Test
  void planSurvivesAJsonRoundTrip() throws Exception {
    ObjectMapper mapper = new ObjectMapper();
    KafkaBatchPlan plan =
        new KafkaBatchPlan(
            "g", List.of(new OffsetRange("t", 0, 3, 9), new OffsetRange("t", 1, 4, 4)), true);
    String json = mapper.writeValueAsString(plan);
    assertThat(json)
        .isEqualTo(
            "{\"group\":\"g\",\"ranges\":[{\"topic\":\"t\",\"partition\":0,\"fromOffset\":3,"
                + "\"untilOffset\":9},{\"topic\":\"t\",\"partition\":1,\"fromOffset\":4,\"untilOffset\":4}],\"last\":true}");
    assertThat(mapper.readValue(json, KafkaBatchPlan.class)).isEqualTo(plan);
    String withEmpty = json.replace("\"untilOffset\":9}", "\"untilOffset\":9,\"empty\":false}");
    assertThat(mapper.readValue(withEmpty, KafkaBatchPlan.class)).isEqualTo(plan);
  }
}

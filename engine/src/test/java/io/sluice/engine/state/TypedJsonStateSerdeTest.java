package io.sluice.engine.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TypedJsonStateSerdeTest {

  record Click(String page, long at) {}

  record Session(String user, List<Click> clicks, Map<String, Long> perPage) {}

  private static <T> T roundTrip(T value) {
    StateSerde<T> serde = StateSerde.typedJson();
    return serde.deserialize(serde.serialize(value));
  }

  @Test
  void valuesComeBackWithTheirTypesNestedOnesIncluded() {
    assertThat(roundTrip(5L)).isEqualTo(5L).isInstanceOf(Long.class);
    assertThat(roundTrip(7)).isEqualTo(7).isInstanceOf(Integer.class);
    assertThat(roundTrip("text")).isEqualTo("text");
    assertThat(roundTrip(2.5d)).isEqualTo(2.5d);
    Map<String, Long> perPage = new TreeMap<>(Map.of("/a", 2L, "/b", 1L));
    Session s = new Session("u1", List.of(new Click("/a", 1L), new Click("/b", 2L)), perPage);
    Session back = roundTrip(s);
    assertThat(back).isEqualTo(s);
    assertThat(back.perPage().get("/a")).isInstanceOf(Long.class);
    assertThat(roundTrip(List.of(1L, 2L))).containsExactly(1L, 2L);
  }

  @Test
  void unreadableBytesFailNamingTheProblem() {
    StateSerde<Object> serde = StateSerde.typedJson();
    assertThatThrownBy(() -> serde.deserialize("[\"no.such.Type\",{}]".getBytes()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("typed JSON");
    assertThat(Optional.of(serde.toString())).hasValue("StateSerde.typedJson()");
  }
}

package io.sluice.engine.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.type.TypeFactory;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StateSerdeTest {

  record UserKey(String tenant, long userId) {}

  record Session(long startMillis, int clicks, List<String> pages, String referrer) {}

  record WithOptional(Optional<String> referrer) {}

  /** A POJO with a default constructor and setters. */
  public static final class Counter {
    private String name;
    private long count;

    public Counter() {}

    Counter(String name, long count) {
      this.name = name;
      this.count = count;
    }

    public String getName() {
      return name;
    }

    public void setName(String name) {
      this.name = name;
    }

    public long getCount() {
      return count;
    }

    public void setCount(long count) {
      this.count = count;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Counter c && Objects.equals(name, c.name) && count == c.count;
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, count);
    }
  }

  private static <T> T roundTrip(StateSerde<T> serde, T value) {
    return serde.deserialize(serde.serialize(value));
  }

  @Test
  void recordsRoundTripWithoutCode() {
    StateSerde<UserKey> keys = StateSerde.json(UserKey.class);
    StateSerde<Session> values = StateSerde.json(Session.class);
    UserKey key = new UserKey("acme", 42);
    Session session = new Session(1_700_000_000_000L, 3, List.of("/", "/cart"), null);

    assertThat(roundTrip(keys, key)).isEqualTo(key).hasSameHashCodeAs(key);
    assertThat(roundTrip(values, session).clicks()).isEqualTo(3);
    assertThat(roundTrip(values, session)).isEqualTo(session);
  }

  @Test
  void typesThatNeedAJacksonModuleFailWithTheModuleNamed() {
    // Optional and java.time need jackson-datatype-jdk8 / -jsr310 on the class path (found and
    // registered automatically) or an application mapper through json(mapper, type).
    StateSerde<WithOptional> serde = StateSerde.json(WithOptional.class);

    assertThatThrownBy(() -> serde.serialize(new WithOptional(Optional.of("x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("WithOptional")
        .hasMessageContaining("jackson-datatype-jdk8");
  }

  @Test
  void pojosRoundTripWithoutCode() {
    StateSerde<Counter> serde = StateSerde.json(Counter.class);

    assertThat(roundTrip(serde, new Counter("clicks", 17))).isEqualTo(new Counter("clicks", 17));
  }

  @Test
  void genericTypesRoundTripThroughTypeReferenceAndJavaType() {
    StateSerde<Map<String, List<UserKey>>> byRef =
        StateSerde.json(new TypeReference<Map<String, List<UserKey>>>() {});
    JavaType type =
        TypeFactory.defaultInstance().constructCollectionType(List.class, UserKey.class);
    StateSerde<List<UserKey>> byType = StateSerde.json(type);
    Map<String, List<UserKey>> value =
        Map.of("a", List.of(new UserKey("t", 1), new UserKey("t", 2)));

    assertThat(roundTrip(byRef, value)).isEqualTo(value);
    assertThat(roundTrip(byRef, value).get("a").get(0)).isInstanceOf(UserKey.class);
    assertThat(roundTrip(byType, List.of(new UserKey("x", 9))))
        .containsExactly(new UserKey("x", 9));
  }

  @Test
  void applicationMapperIsUsedWhenGiven() {
    ObjectMapper mapper = new ObjectMapper();
    StateSerde<UserKey> serde = StateSerde.json(mapper, UserKey.class);
    StateSerde<List<Long>> generic = StateSerde.json(mapper, new TypeReference<List<Long>>() {});

    assertThat(new String(serde.serialize(new UserKey("t", 1)), StandardCharsets.UTF_8))
        .isEqualTo("{\"tenant\":\"t\",\"userId\":1}");
    assertThat(roundTrip(generic, List.of(1L, 2L))).containsExactly(1L, 2L);
  }

  @Test
  void stateWrittenWithAFieldSinceRemovedStaysReadable() {
    byte[] old =
        "{\"tenant\":\"t\",\"userId\":5,\"region\":\"eu\"}".getBytes(StandardCharsets.UTF_8);

    assertThat(StateSerde.json(UserKey.class).deserialize(old)).isEqualTo(new UserKey("t", 5));
  }

  @Test
  void unreadableBytesFailWithTheTypeNamed() {
    StateSerde<UserKey> serde = StateSerde.json(UserKey.class);

    assertThatThrownBy(() -> serde.deserialize("not json".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("UserKey");
    assertThatThrownBy(() -> serde.deserialize("null".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("JSON null");
  }
}

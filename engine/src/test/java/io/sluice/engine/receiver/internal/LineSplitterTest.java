package io.sluice.engine.receiver.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lines cut from bytes arriving in pieces of any size. */
class LineSplitterTest {

  @Test
  void cutsLinesAtEveryKindOfLineEndAcrossAnySplitOfTheBytes() throws IOException {
    byte[] bytes = "a\r\nbé\rc\n\nd€\r\r\ne".getBytes(StandardCharsets.UTF_8);
    for (int piece = 1; piece <= bytes.length; piece++) {
      LineSplitter splitter = new LineSplitter(1_000);
      List<String> lines = new ArrayList<>();
      for (int from = 0; from < bytes.length; from += piece) {
        splitter.feed(bytes, from, Math.min(piece, bytes.length - from), lines::add);
      }
      assertThat(lines)
          .as("pieces of %d bytes", piece)
          .containsExactly("a", "bé", "c", "", "d€", "");
      assertThat(splitter.hasPartialLine()).isTrue();
      assertThat(splitter.takePartialLine()).isEqualTo("e");
      assertThat(splitter.hasPartialLine()).isFalse();
    }
  }

  @Test
  void refusesALineLongerThanTheLimit() {
    LineSplitter splitter = new LineSplitter(4);
    byte[] bytes = "abcdef".getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> splitter.feed(bytes, 0, bytes.length, line -> {}))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("longer than 4 bytes");
  }
}

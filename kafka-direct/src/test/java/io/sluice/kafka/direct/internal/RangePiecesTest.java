package io.sluice.kafka.direct.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.offsets.OffsetRange;
import java.util.List;
import org.junit.jupiter.api.Test;

class RangePiecesTest {

  private static OffsetRange r(int p, long from, long until) {
    return new OffsetRange("t", p, from, until);
  }

  @Test
  void keepsTheRangesWhenThereAreEnoughOrNothingToRead() {
    List<OffsetRange> four = List.of(r(0, 0, 100), r(1, 0, 5), r(2, 7, 9), r(3, 0, 1));
    assertThat(RangePieces.split(four, 4)).isSameAs(four);
    assertThat(RangePieces.split(four, 0)).isSameAs(four);
    List<OffsetRange> empty = List.of(r(0, 5, 5), r(1, 9, 9));
    assertThat(RangePieces.split(empty, 8)).isSameAs(empty);
  }

  @Test
  void cutsEachRangeInPiecesProportionalToItsShareWithTheRemainderSpread() {
    // 10 + 30 = 40 offsets into at least 4: ceil(10 * 4 / 40) = 1 and ceil(30 * 4 / 40) = 3
    assertThat(RangePieces.split(List.of(r(0, 100, 110), r(1, 0, 30)), 4))
        .containsExactly(r(0, 100, 110), r(1, 0, 10), r(1, 10, 20), r(1, 20, 30));
    // 10 into 3: sizes 3, 3, 4; an empty range stays one (empty) piece
    assertThat(RangePieces.split(List.of(r(0, 0, 10), r(1, 4, 4)), 3))
        .containsExactly(r(0, 0, 3), r(0, 3, 6), r(0, 6, 10), r(1, 4, 4));
  }

  @Test
  void neverCutsFinerThanOneOffsetPerPiece() {
    assertThat(RangePieces.split(List.of(r(0, 41, 43)), 8))
        .containsExactly(r(0, 41, 42), r(0, 42, 43));
  }
}

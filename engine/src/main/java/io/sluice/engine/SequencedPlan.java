package io.sluice.engine;

/**
 * The plan of an input whose progress is a position in a sequence the engine numbers itself (a
 * receiver stream's blocks, a file stream's files) instead of a Kafka offset. The batch covers the
 * sequence numbers {@code [from, until)}. An output that commits inputs' progress inside its own
 * transaction ({@link BatchOutput#commitsSequences()}) commits this range with the batch's rows,
 * fenced like Kafka offsets: accepted only when the committed position stands at {@code from}; the
 * input restarts from that committed position.
 */
public interface SequencedPlan {

  /** The sequence's stable name within the application, for example {@code receiver:receiver-0}. */
  String sequence();

  /** The first sequence number the batch covers. */
  long from();

  /** One past the last sequence number the batch covers ({@code from} for an empty batch). */
  long until();
}

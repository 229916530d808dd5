package io.sluice.it.chaos;

import io.sluice.engine.Batch;
import io.sluice.engine.BatchOutput;
import io.sluice.engine.CommitTarget;
import io.sluice.engine.DeliveryGuarantee;
import io.sluice.engine.SequencePosition;
import io.sluice.engine.StreamingContext;
import io.sluice.engine.function.Function2;
import io.sluice.engine.rdd.RDD;
import java.util.List;
import java.util.Optional;

/**
 * Hands a sink each record turned into a row by {@code stamp} with the id of the batch writing it
 * (so a test can tell which batch and run wrote a duplicate), and passes every question the engine
 * asks the sink (its guarantee, where it commits, the sequences it committed) through.
 *
 * @param <T> the stream's record type
 * @param <R> the sink's row type
 */
final class Stamped<T, R> implements BatchOutput<T> {
  private final BatchOutput<R> sink;
  private final Function2<T, Long, R> stamp;

  Stamped(BatchOutput<R> sink, Function2<T, Long, R> stamp) {
    this.sink = sink;
    this.stamp = stamp;
  }

  @Override
  public void write(RDD<T> rdd, Batch batch) throws Exception {
    long id = batch.id();
    sink.write(rdd.map(record -> stamp.call(record, id)), batch);
  }

  @Override
  public DeliveryGuarantee guarantee() {
    return sink.guarantee();
  }

  @Override
  public List<String> exactlyOnceGaps() {
    return sink.exactlyOnceGaps();
  }

  @Override
  public Optional<CommitTarget> offsetCommitTarget() {
    return sink.offsetCommitTarget();
  }

  @Override
  public boolean commitsSequences() {
    return sink.commitsSequences();
  }

  @Override
  public Optional<SequencePosition> committedSequence(String sequence) {
    return sink.committedSequence(sequence);
  }

  @Override
  public void open(StreamingContext context) throws Exception {
    sink.open(context);
  }

  @Override
  public void close() throws Exception {
    sink.close();
  }

  @Override
  public String describe() {
    return sink.describe();
  }
}

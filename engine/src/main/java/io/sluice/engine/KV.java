package io.sluice.engine;

/**
 * A key-value pair, the element type of pair RDDs and pair DStreams.
 *
 * @param key the key; may be null (hashes to partition 0)
 * @param value the value; may be null
 * @param <K> key type
 * @param <V> value type
 */
public record KV<K, V>(K key, V value) {

  /** Creates a pair. */
  public static <K, V> KV<K, V> of(K key, V value) {
    return new KV<>(key, value);
  }
}

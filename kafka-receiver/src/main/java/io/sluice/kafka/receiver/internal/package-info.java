/**
 * Implementation of the Kafka receivers: the receiver and its consumer loop, the committers (Kafka
 * group, offset store), the stored record and its write-ahead-log form, and the decoding in the
 * tasks. Not an API: nothing outside this module may import it.
 */
package io.sluice.kafka.receiver.internal;

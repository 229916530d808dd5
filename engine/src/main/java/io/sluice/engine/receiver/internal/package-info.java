/** The receiver runtime: supervisor, block generator, rate limiter, received blocks, block RDD. */
package io.sluice.engine.receiver.internal;

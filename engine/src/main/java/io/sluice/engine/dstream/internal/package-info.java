/** Engine internals: not API, may change without notice; other modules must not import them. */
package io.sluice.engine.dstream.internal;

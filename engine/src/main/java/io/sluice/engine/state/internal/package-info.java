/**
 * State store internals: not API, may change without notice; other modules must not import them.
 */
package io.sluice.engine.state.internal;

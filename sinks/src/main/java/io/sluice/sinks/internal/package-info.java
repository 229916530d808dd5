/**
 * Sink implementations; not API. Users build sinks through the builders and factories in {@link
 * io.sluice.sinks}.
 */
package io.sluice.sinks.internal;

/**
 * A status page, a JSON API and a Prometheus endpoint for a running {@link
 * io.sluice.engine.StreamingContext}: put {@code io.sluice:sluice-status} on the class path and
 * call {@code StreamingContext.builder().statusServer(port)}; {@link io.sluice.status.SluiceStatus}
 * tells where it listens and closes it.
 */
package io.sluice.status;

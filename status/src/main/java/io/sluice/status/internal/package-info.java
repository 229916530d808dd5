/**
 * The status server's implementation: the JDK's HTTP server, the listener that remembers the last
 * batches, the JSON views and the page. Not an API: nothing outside this module may import it.
 */
package io.sluice.status.internal;

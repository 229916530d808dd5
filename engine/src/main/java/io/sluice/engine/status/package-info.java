/**
 * The hook between a context and an optional status server: {@code
 * StreamingContext.builder().statusServer(port)} finds a {@link
 * io.sluice.engine.status.StatusServerProvider} with {@link java.util.ServiceLoader} (the module
 * {@code io.sluice:sluice-status} ships one), so the engine itself carries no HTTP server.
 */
package io.sluice.engine.status;

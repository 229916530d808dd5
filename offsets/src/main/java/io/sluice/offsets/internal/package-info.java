/** Offset store implementations; not part of the public API. */
package io.sluice.offsets.internal;

/**
 * Implementation of the testkit fixtures. Not part of the public API: may change without notice.
 */
package io.sluice.testkit.internal;

/** Runnable pipelines; the README demo. */
package io.sluice.examples;

/** End-to-end and fault-injection tests across modules. */
package io.sluice.it;

/**
 * Functional interfaces for application code. Unlike {@code java.util.function}, they may throw
 * checked exceptions, as in Spark's Java API, so ported code keeps compiling. Nothing is
 * Java-serialized, so they need not be {@code Serializable}.
 */
package io.sluice.engine.function;

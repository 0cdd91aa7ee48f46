/** What the operator commands ({@code slot}, {@code offsets}, {@code lag}, {@code dlt}, {@code topics}) share. */
package dev.changeflow.cli.internal.ops;

/**
 * The shape of a captured table's rows, and whether a new shape is compatible with the last one: the model behind
 * the versioned row schemas capture registers and {@code changeflow schema check} reports on. Pure logic, no I/O.
 */
package dev.changeflow.router.schema;

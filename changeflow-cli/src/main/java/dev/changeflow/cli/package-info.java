/**
 * The runnable changeflow application: wires capture, the consumers and the embedded stack together. Nothing depends on it.
 */
package dev.changeflow.cli;

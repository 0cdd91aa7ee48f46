/**
 * The public change event contract, table-to-topic routing and the subscription runtime that every consumer uses. Depends on no other pipeline module: capture and the consumers depend on it.
 */
package dev.changeflow.router;

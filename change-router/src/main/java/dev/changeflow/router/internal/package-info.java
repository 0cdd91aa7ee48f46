/**
 * Implementation of the change event contract: value normalisation and the JSON shape Jackson maps. Not an API:
 * other modules use {@code dev.changeflow.router} only.
 */
package dev.changeflow.router.internal;

/** The subscription runtime's implementation on reactor-kafka. Not an API: nothing outside change-router uses it. */
package dev.changeflow.router.internal.subscription;

/**
 * Embedded Debezium capture of app.tasks and app.projects, publishing every row change to its Kafka topic. Depends on change-router only.
 */
package dev.changeflow.capture;

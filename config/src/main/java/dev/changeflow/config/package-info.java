/**
 * Settings declared once, with key, description, default and validation, read from system properties, environment variables or a properties file. A bad value fails with one line naming the variable, the key, the value and what is allowed.
 */
package dev.changeflow.config;

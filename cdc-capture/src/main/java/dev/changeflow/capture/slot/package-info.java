/**
 * Operating capture's replication slot safely: status, drop and reset, each done while holding the slot's capture
 * lease so that no capture reads the slot or writes its offsets meanwhile.
 */
package dev.changeflow.capture.slot;

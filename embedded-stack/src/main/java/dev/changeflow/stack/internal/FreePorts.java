package dev.changeflow.stack.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Finds a free TCP port on the loopback interface, or checks that a chosen one is free. */
final class FreePorts {
    private FreePorts() {
    }

    /**
     * A port that was free a moment ago. Another process may take it before the caller binds; callers that cannot
     * tolerate that retry with a new port.
     */
    static int find() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("No free port on loopback", e);
        }
    }

    /**
     * {@code port} if it is free on 127.0.0.1, or a free port if {@code port} is 0.
     *
     * @param server what will listen there, for the error message ("Postgres")
     * @throws IllegalArgumentException if {@code port} is outside 0..65535
     * @throws IllegalStateException naming the port if something already listens on it
     */
    static int chooseOrFind(int port, String server) {
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException(server + " port " + port + " is invalid; allowed: 1-65535, or 0 for "
                    + "a free port");
        }
        if (port == 0) {
            return find();
        }
        requireFree(port, server);
        return port;
    }

    /**
     * Checks that nothing listens on {@code port} of 127.0.0.1 by binding it for a moment (with SO_REUSEADDR, as the
     * servers do, so that connections of a previous run in TIME_WAIT do not count). A check, not a reservation.
     *
     * @throws IllegalStateException naming the port and {@code server} if the port is taken
     */
    static void requireFree(int port, String server) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        } catch (IOException e) {
            throw portTaken(port, server);
        }
    }

    /** The error for a port that another process listens on. */
    static IllegalStateException portTaken(int port, String server) {
        return new IllegalStateException("Port " + port + " on 127.0.0.1 is already in use, so " + server
                + " cannot listen on it; stop the process that uses port " + port + " or choose another port");
    }
}

package dev.changeflow.stack;

import java.io.IOException;
import java.net.ServerSocket;

/** Ports for tests of unreachable servers. */
public final class TestPorts {
    private TestPorts() {
    }

    /** A loopback port that nothing listens on (it was bound a moment ago and released). */
    public static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}

package dev.changeflow.stack.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A readiness probe that speaks just enough RESP to send AUTH and PING (and SHUTDOWN SAVE, to stop a server we
 * started without losing its data). The stack deliberately has no Redis client
 * library: Lettuce brings Netty 4.2, which must stay off the classpath of modules that run an OpenSearch node.
 */
final class RedisPing {
    private RedisPing() {
    }

    /**
     * Sends {@code AUTH} (if a password is given) and {@code PING}, and expects {@code +PONG}.
     *
     * @throws IOException if the server does not answer, or answers anything else (for example {@code -NOAUTH})
     */
    static void ping(String host, int port, String password, Duration timeout) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            if (password != null) {
                out.write(command("AUTH", password));
                String reply = readLine(in);
                if (!reply.startsWith("+OK")) {
                    throw new IOException("AUTH was refused");
                }
            }
            out.write(command("PING"));
            String reply = readLine(in);
            if (!reply.startsWith("+PONG")) {
                throw new IOException("unexpected reply to PING: " + reply);
            }
        }
    }

    /**
     * Asks the server to write its data to disk and exit ({@code SHUTDOWN SAVE}); returns once it closed the
     * connection, which it does after saving.
     *
     * @throws IOException if the server cannot be reached or refuses
     */
    static void shutdownSaving(String host, int port, Duration timeout) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), (int) timeout.toMillis());
            socket.setSoTimeout((int) timeout.toMillis());
            socket.getOutputStream().write(command("SHUTDOWN", "SAVE"));
            try {
                String reply = readLine(socket.getInputStream());
                throw new IOException("SHUTDOWN SAVE was refused: " + reply);
            } catch (IOException closed) {
                if (closed.getMessage() != null && closed.getMessage().startsWith("SHUTDOWN")) {
                    throw closed;
                }
                // The server closed the connection: it has saved and is exiting.
            }
        }
    }

    private static byte[] command(String... args) {
        StringBuilder sb = new StringBuilder("*").append(args.length).append("\r\n");
        for (String arg : args) {
            sb.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String readLine(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        if (c == -1 && sb.length() == 0) {
            throw new IOException("connection closed");
        }
        return sb.toString();
    }
}

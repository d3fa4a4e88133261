"""A TLS front for a loopback Redis or sentinel, for a Valkey built without TLS (the embedded one).

Each connection's first byte tells it apart: a TLS ClientHello (``0x16``) is answered with the certificate and
what comes through is passed on in clear; anything else (the sentinels' and replicas' own links) passes as it
is. Every connection is recorded with the local port of its link to the server, so a test can match the
clients the server lists (``CLIENT LIST``, by name) to whether they came over TLS.
"""

import contextlib
import selectors
import socket
import ssl
import threading
from pathlib import Path

TLS_HANDSHAKE = 0x16


class TlsFront:
    """Listens on a free loopback port (``port``) for ``target_port``; one thread per connection."""

    def __init__(self, target_port: int, certificate: Path, key: Path) -> None:
        self.target_port = target_port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.context.load_cert_chain(certificate, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self.tls_by_server_side_port: dict[int, bool] = {}
        """For each link to the server, by its local port: whether the client came over TLS."""
        self.refused_handshakes = 0
        self._sockets: list[socket.socket] = []

    def start(self) -> "TlsFront":
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self.listener.close()
        for open_socket in self._sockets:
            with contextlib.suppress(OSError):
                open_socket.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client: socket.socket) -> None:
        """Waits for the client's first byte (without taking it), then passes bytes both ways in one thread (an
        SSL socket must not be read and written at once)."""
        try:
            first = client.recv(1, socket.MSG_PEEK)
            tls = bool(first) and first[0] == TLS_HANDSHAKE
            if tls:
                client = self.context.wrap_socket(client, server_side=True)
            server = socket.create_connection(("127.0.0.1", self.target_port))
        except (OSError, ssl.SSLError):
            self.refused_handshakes += 1
            client.close()
            return
        self.tls_by_server_side_port[server.getsockname()[1]] = tls
        self._sockets.extend((client, server))
        with selectors.DefaultSelector() as both, contextlib.suppress(OSError, ValueError):
            for end in (client, server):
                both.register(end, selectors.EVENT_READ)
            while _pass_on(both, client, server):
                pass
        for end in (client, server):
            end.close()


def _pass_on(both: selectors.BaseSelector, client: socket.socket, server: socket.socket) -> bool:
    """Passes on what either side has sent; False once one side is closed. A selector (epoll), not
    ``select.select``: late in a test run the process holds more than 1,024 descriptors, which ``select`` refuses
    (every link was dropped at once, the sentinels saw the primary down, and the clients' links were reset)."""
    for key, _ in both.select():
        source = key.fileobj
        assert isinstance(source, socket.socket)
        sink = server if source is client else client
        data = source.recv(65536)
        if not data:
            return False
        sink.sendall(data)
        while isinstance(source, ssl.SSLSocket) and source.pending():
            sink.sendall(source.recv(65536))
    return True

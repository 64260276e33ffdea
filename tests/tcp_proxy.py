"""A TCP proxy on 127.0.0.1 for tests that freeze a dependency: run as a process
(`python tests/tcp_proxy.py HOST PORT`), it prints the port it listens on and forwards
every connection to HOST:PORT. SIGSTOP freezes it as a hung server would be: the kernel
still accepts connections and acknowledges data, and nothing comes back."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading


def _pipe(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection((host, port))
        for source, target in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(source, target), daemon=True).start()


if __name__ == "__main__":
    main()

"""``volcredit serve`` with one change, for ``benchmarks/portal.py --tcp-nodelay``.

    .venv/bin/python benchmarks/portal_serve.py serve --db URL --site DIR --workers 2 --port N

With ``--workers`` above 1, uvicorn binds the listening socket itself with ``proto`` 0; accepted
connections inherit it, asyncio then leaves TCP_NODELAY off, and every keep-alive response
(headers and body written separately) waits for the client's delayed ACK, about 40 ms on Linux
(uvicorn issue #3149). Here the listening socket is re-wrapped as IPPROTO_TCP before the workers
start, so the benchmark can show what the portal does without that delay. The portal's own code
is untouched.
"""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import uvicorn.config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]

if __name__ == "__main__":
    from volcredit.cli import main

    sys.exit(main(sys.argv[1:]))

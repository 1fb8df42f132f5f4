"""A TCP fault proxy on 127.0.0.1 between the training process and `expt serve`.

It forwards bytes and, depending on the current mode, misbehaves the way networks and load balancers do.
The mode is read for every chunk the client sends, so a fault hits connections already kept alive as
well as new ones, and can land in the middle of a request body:

    pass       forward unchanged
    delay      hold each client chunk `delay` seconds before forwarding (a slow link)
    drop       close both sides at once (FIN): the client sees the connection vanish
    reset      close with SO_LINGER 0 (RST): the client sees ECONNRESET
    blackhole  accept and read, never answer and never close (a dead route or a hung middlebox)
    http:NNN   answer the request itself with status NNN and close (a proxy in front of a dead backend)
    ackloss    forward the request, then reset the client when the answer comes: the server did the
               work, the client never hears so (the case idempotency keys exist for)
    chaos      per chunk at random: drop, reset, ackloss, a 0-300 ms delay, or pass (seeded, reproducible)

Leaving `blackhole` resets the connections it held, as a middlebox that drops its state does; without
that the SDK's 30 s socket timeout, not the fault, would decide when delivery resumes (see faults/README).
"""

from __future__ import annotations

import contextlib
import random
import socket
import struct
import threading
import time

CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _http_error(status: int) -> bytes:
    reason = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
    }.get(status, "Error")
    body = f'{{"error":"fault proxy: {status}"}}'.encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class FaultProxy:
    def __init__(self, upstream_port: int, seed: int = 1) -> None:
        self.upstream_port = upstream_port
        self.mode = "pass"
        self.delay = 0.2
        self.reset_on_leave = (
            True  # False: a true black hole, whose connections stay hung afterwards
        )
        self.rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._lock = threading.Lock()
        self._held: set[socket.socket] = set()  # black-holed client sockets
        self._conns: set[socket.socket] = set()
        self._doomed: set[socket.socket] = (
            set()
        )  # to be reset by the thread reading them
        self.counts: dict[
            str, int
        ] = {}  # faults injected, by kind: the report shows they happened
        self._ls = socket.socket()
        self._ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._ls.bind(("127.0.0.1", 0))
        self._ls.listen(128)
        self.port = int(self._ls.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        threading.Thread(
            target=self._accept_loop, name="fault-proxy", daemon=True
        ).start()

    # --- control -------------------------------------------------------------------------------------

    def set(self, mode: str) -> None:
        with self._lock:
            leaving_blackhole = (
                self.mode == "blackhole" and mode != "blackhole" and self.reset_on_leave
            )
            self.mode = mode
            held = list(self._held) if leaving_blackhole else []
            if leaving_blackhole:
                self._held.clear()
        for s in held:
            self._kick(s)

    def hold(
        self, mode: str, at_least: float, until: tuple[str, ...] = (), cap: float = 10.0
    ) -> None:
        """Stay in `mode` for `at_least` seconds and, beyond that, until each fault in `until` has hit
        a request (up to `cap` seconds): the SDK's retry backoff decides when requests come, and a
        stretch no request saw would test nothing."""
        self.set(mode)
        start = time.monotonic()
        before = dict(self.counts)
        time.sleep(at_least)
        while time.monotonic() - start < cap and any(
            self.counts.get(k, 0) <= before.get(k, 0) for k in until
        ):
            time.sleep(0.05)
        self.set("pass")

    def close(self) -> None:
        self._closed = True
        self._ls.close()
        with self._lock:
            conns = list(self._conns) + list(self._held)
        for s in conns:
            with contextlib.suppress(OSError):
                s.close()

    def _kick(self, sock: socket.socket) -> None:
        """Have the thread blocked reading `sock` reset it. Closing a socket another thread is reading
        sends nothing on Linux until that read returns; shutdown(SHUT_RD) makes the read return now."""
        with self._lock:
            self._doomed.add(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)

    def _doomed_reset(self, sock: socket.socket) -> bool:
        with self._lock:
            doomed = sock in self._doomed
            self._doomed.discard(sock)
            if doomed:
                self._conns.discard(sock)
                self._held.discard(sock)
        if doomed:
            _reset(sock)
        return doomed

    def _count(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    # --- data path -----------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._ls.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _decide(self) -> str:
        mode = self.mode
        if mode != "chaos":
            return mode
        with self._rng_lock:
            x = self.rng.random()
        if x < 0.12:
            return "drop"
        if x < 0.24:
            return "reset"
        if x < 0.36:
            return "ackloss"
        if x < 0.6:
            return "delay-rand"
        return "pass"

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        lose_ack = (
            threading.Event()
        )  # set: the next answer from upstream is replaced by a reset
        owned = True  # False once the socket is handed to the held set or reset
        with self._lock:
            self._conns.add(client)
        try:
            while True:
                try:
                    data = client.recv(CHUNK)
                except OSError:
                    data = b""
                if not data:
                    owned = not self._doomed_reset(client)
                    return
                action = self._decide()
                if action == "pass":
                    self._count("pass")
                if action == "blackhole":
                    self._count("blackhole")
                    owned = False
                    self._hold(client)
                    return
                if action == "drop":
                    self._count("drop")
                    return
                if action == "reset":
                    self._count("reset")
                    owned = False
                    self._abort(client)
                    return
                if action.startswith("http:"):
                    self._count(action)
                    self._answer(client, int(action[5:]))
                    return
                if action == "delay":
                    self._count("delay")
                    time.sleep(self.delay)
                elif action == "ackloss":
                    self._count("ackloss")
                    lose_ack.set()
                elif action == "delay-rand":
                    self._count("delay")
                    with self._rng_lock:
                        d = self.rng.uniform(0, 0.3)
                    time.sleep(d)
                if upstream is None:
                    try:
                        upstream = socket.create_connection(
                            ("127.0.0.1", self.upstream_port), timeout=5
                        )
                    except OSError:
                        # The server is down (being restarted): the client sees a reset, as with no proxy.
                        self._count("refused")
                        owned = False
                        self._abort(client)
                        return
                    upstream.settimeout(None)
                    threading.Thread(
                        target=self._pump_back,
                        args=(upstream, client, lose_ack),
                        daemon=True,
                    ).start()
                try:
                    upstream.sendall(data)
                except OSError:
                    return
        finally:
            if upstream is not None:
                with contextlib.suppress(OSError):
                    upstream.close()
            if owned:
                with self._lock:
                    self._conns.discard(client)
                with contextlib.suppress(OSError):
                    client.close()

    def _abort(self, client: socket.socket) -> None:
        with self._lock:
            self._conns.discard(client)
        _reset(client)

    @staticmethod
    def _answer(client: socket.socket, status: int) -> None:
        """Send an error response, then read what is left of the request for a moment before closing:
        closing with unread data would turn the answer into a reset the client may never see."""
        try:
            client.sendall(_http_error(status))
            client.shutdown(socket.SHUT_WR)
            client.settimeout(0.2)
            while client.recv(CHUNK):
                pass
        except OSError:
            pass

    def _hold(self, client: socket.socket) -> None:
        """Keep the connection open and read whatever arrives, answering nothing."""
        with self._lock:
            self._conns.discard(client)
            self._held.add(client)
        try:
            while client.recv(CHUNK):
                pass
        except OSError:
            pass
        if not self._doomed_reset(client):
            with self._lock:
                self._held.discard(client)
            client.close()

    def _pump_back(
        self, upstream: socket.socket, client: socket.socket, lose_ack: threading.Event
    ) -> None:
        """Server -> client. A response already on its way is still delivered; black-holing starts
        with the next request, so the client sees no answer to it."""
        try:
            while True:
                data = upstream.recv(CHUNK)
                if not data:
                    break
                if lose_ack.is_set():
                    self._kick(client)
                    return
                if self.mode == "blackhole":
                    # Swallow the answer; the connection is held like the new ones, so leaving the
                    # black hole resets it too.
                    with self._lock:
                        new = client not in self._held
                        self._held.add(client)
                    if new:
                        self._count("blackhole")
                    continue
                client.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            client.shutdown(socket.SHUT_WR)
        upstream.close()

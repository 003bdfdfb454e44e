# tests/integration/lib/ws.py  a small WebSocket client (RFC 6455), stdlib only
#
# Enough of a browser's WebSocket to test SIP over WebSocket (RFC 7118):
# the opening handshake with Sec-WebSocket-Protocol, checked as strictly
# as browsers do (a server that does not confirm the subprotocol the
# client asked for fails the handshake, as in the WHATWG WebSockets
# standard), masked client frames, fragmented messages, ping/pong and the
# closing handshake. ws:// over a plain socket, wss:// over ssl.
# Raw access (send_frame(), send_raw()) lets tests send broken frames.

import base64
import hashlib
import os
import select
import socket
import ssl
import struct
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BIN = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xa


class HandshakeError(Exception):
    pass


class Closed(Exception):
    """The peer closed the connection (code, reason: None when the TCP
    connection ended without a close frame)."""

    def __init__(self, code=None, reason=""):
        super().__init__("closed (%s) %s" % (code, reason))
        self.code = code
        self.reason = reason


def accept_key(key):
    """Sec-WebSocket-Accept for Sec-WebSocket-Key <key> (RFC 6455 4.2.2)."""
    d = hashlib.sha1((key + GUID).encode()).digest()
    return base64.b64encode(d).decode()


class WebSocket:
    """One client connection. connect() does the handshake; the response
    status and headers stay in .status/.headers, the agreed subprotocol
    in .protocol."""

    def __init__(self, host, port, secure=False, path="/", protocols=("sip",),
                 ssl_context=None, timeout=5.0, strict=True, extra_headers=()):
        self.host, self.port = host, port
        self.secure = secure
        self.path = path
        self.protocols = list(protocols)
        self.ssl_context = ssl_context
        self.timeout = timeout
        self.strict = strict
        self.extra_headers = list(extra_headers)
        self.sock = None
        self.lock = threading.Lock()  # one reader and one writer thread:
        self.buf = b""                # an ssl socket allows one at a time
        self.status = None
        self.headers = {}
        self.protocol = None
        self.close_code = None
        self.pings = 0           # pings received (and answered)

    # ---- the opening handshake -------------------------------------------

    def connect(self):
        raw = socket.create_connection((self.host, self.port), self.timeout)
        if self.secure:
            ctx = self.ssl_context
            if ctx is None:
                ctx = ssl.create_default_context()
            raw = ctx.wrap_socket(raw, server_hostname=self.host)
        self.sock = raw
        self.sock.settimeout(self.timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % self.path,
                 "Host: %s:%d" % (self.host, self.port),
                 "Upgrade: websocket",
                 "Connection: Upgrade",
                 "Sec-WebSocket-Key: " + key,
                 "Sec-WebSocket-Version: 13",
                 "Origin: http%s://%s:%d" % ("s" if self.secure else "",
                                             self.host, self.port)]
        if self.protocols:
            lines.append("Sec-WebSocket-Protocol: " +
                         ", ".join(self.protocols))
        lines += list(self.extra_headers)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                raise HandshakeError("connection closed during the "
                                     "handshake: %r" % self.buf[:200])
            self.buf += d
            if len(self.buf) > 65536:
                raise HandshakeError("handshake response too long")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        text = head.decode("latin-1").split("\r\n")
        parts = text[0].split(" ", 2)
        self.status = int(parts[1]) if len(parts) > 1 and \
            parts[1].isdigit() else None
        for ln in text[1:]:
            k, sep, v = ln.partition(":")
            if sep:
                self.headers[k.strip().lower()] = v.strip()
        if self.status != 101:
            raise HandshakeError("status %s: %s" % (self.status, text[0]))
        if self.headers.get("upgrade", "").lower() != "websocket" or \
                "upgrade" not in self.headers.get("connection", "").lower():
            raise HandshakeError("no Upgrade: websocket / Connection: "
                                 "Upgrade")
        if self.headers.get("sec-websocket-accept") != accept_key(key):
            raise HandshakeError("bad Sec-WebSocket-Accept")
        self.protocol = self.headers.get("sec-websocket-protocol")
        if self.strict and self.protocols and \
                self.protocol not in self.protocols:
            # what a browser does: it asked for a subprotocol and the
            # server did not confirm one of them
            raise HandshakeError("server did not confirm a subprotocol "
                                 "(Sec-WebSocket-Protocol: %r)"
                                 % self.protocol)
        return self

    # ---- frames ------------------------------------------------------------

    @staticmethod
    def frame(opcode, payload, fin=True, mask=True, rsv=0, length=None):
        """The bytes of one frame. <length> overrides the length field
        (to send a lying header)."""
        n = len(payload) if length is None else length
        b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0x0f)
        m = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, m | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, m | 126, n)
        else:
            head = struct.pack("!BBQ", b0, m | 127, n)
        if not mask:
            return head + payload
        key = os.urandom(4)
        body = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        return head + key + body

    def send_raw(self, data):
        with self.lock:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)

    def send_frame(self, opcode, payload, **kw):
        self.send_raw(self.frame(opcode, payload, **kw))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode() if isinstance(text, str)
                        else text)

    def send_binary(self, data):
        self.send_frame(OP_BIN, data)

    def _fill(self, deadline):
        """More bytes into the buffer. The wait for them is a select()
        without the lock, so a writer on another thread is not held up
        by a reader that waits."""
        so = self.sock
        pending = isinstance(so, ssl.SSLSocket) and so.pending()
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no frame")
        if not pending and not select.select([so], [], [], left)[0]:
            raise socket.timeout("no frame")
        try:
            with self.lock:
                so.settimeout(max(0.001, min(left, 1.0)))
                d = so.recv(65536)
        except socket.timeout:
            return
        except (ssl.SSLError, ConnectionError) as e:
            raise Closed(None, str(e))
        if not d:
            raise Closed(None, "TCP connection closed")
        self.buf += d

    def _parse(self):
        """(fin, opcode, payload) of a whole frame at the head of the
        buffer (consumed), or None while it is incomplete."""
        b = self.buf
        if len(b) < 2:
            return None
        n, i = b[1] & 0x7f, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, i = struct.unpack("!H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, i = struct.unpack("!Q", b[2:10])[0], 10
        key = None
        if b[1] & 0x80:
            if len(b) < i + 4:
                return None
            key, i = b[i:i + 4], i + 4
        if len(b) < i + n:
            return None
        payload, self.buf = b[i:i + n], b[i + n:]
        if key:
            payload = bytes(c ^ key[j % 4] for j, c in enumerate(payload))
        return bool(b[0] & 0x80), b[0] & 0x0f, payload

    def recv_frame(self, timeout=None):
        """(fin, opcode, payload) of the next frame; socket.timeout when
        none came whole in <timeout> s (what came stays buffered)."""
        deadline = time.monotonic() + (self.timeout if timeout is None
                                       else timeout)
        while True:
            f = self._parse()
            if f:
                return f
            self._fill(deadline)

    def recv_message(self, timeout=None):
        """(opcode, payload) of the next data message, fragments joined;
        pings are answered on the way. Raises Closed on a close frame
        (answered) or the end of the connection."""
        deadline = time.monotonic() + (self.timeout if timeout is None
                                       else timeout)
        parts, op = [], None
        while True:
            fin, opcode, payload = self.recv_frame(
                max(0.001, deadline - time.monotonic()))
            if opcode == OP_PING:
                self.pings += 1
                self.send_frame(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                code = struct.unpack("!H", payload[:2])[0] \
                    if len(payload) >= 2 else None
                self.close_code = code
                try:
                    self.send_frame(OP_CLOSE, payload[:2])
                except OSError:
                    pass
                raise Closed(code, payload[2:].decode("utf-8", "replace"))
            if op is None:
                op = opcode
            parts.append(payload)
            if fin:
                return op, b"".join(parts)

    # ---- closing -------------------------------------------------------------

    def close(self, code=1000, wait=1.0):
        """Closing handshake (bounded wait for the peer's close), then the
        socket."""
        if not self.sock:
            return
        try:
            self.send_frame(OP_CLOSE, struct.pack("!H", code))
            end = time.monotonic() + wait
            while time.monotonic() < end:
                self.recv_message(end - time.monotonic())
        except (Closed, OSError):
            pass
        self.abort()

    def abort(self):
        """Drop the TCP connection without a closing handshake."""
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None

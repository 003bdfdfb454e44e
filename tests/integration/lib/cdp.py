# tests/integration/lib/cdp.py  headless Chromium over DevTools
#
# Just enough of the Chrome DevTools Protocol for a scenario to load a
# page, type into it, click and read the rendered DOM: a stdlib
# WebSocket client (RFC 6455, client side: masked frames, no
# extensions) and a Browser that starts chromium --headless=new on a
# remote-debugging port it picks itself (port 0: the port is read from
# DevToolsActivePort in the profile directory, so nothing races for a
# port). Every wait is bounded; the browser is ours and stopped by pid.

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class WebSocket:
    """A client WebSocket to ws://host:port/path, text messages only."""

    def __init__(self, url, timeout=10):
        assert url.startswith("ws://")
        hostport, _, path = url[5:].partition("/")
        host, _, port = hostport.partition(":")
        self.sock = socket.create_connection((host, int(port or 80)),
                                             timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        # no Origin header: Chromium refuses DevTools connections whose
        # Origin it was not told to allow, and lets originless ones in
        req = ("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n" % (path, hostport, key))
        self.sock.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: closed")
            head += chunk
            if len(head) > 65536:
                raise ConnectionError("websocket handshake: too long")
        head, _, self.buf = head.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise ConnectionError("websocket handshake: %r" % status)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buf)))
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send_frame(self, opcode, payload):
        head = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        mask = os.urandom(4)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, text):
        self._send_frame(0x1, text.encode())

    def recv(self, timeout):
        """The next text message, or None after <timeout> s."""
        self.sock.settimeout(timeout)
        parts = []
        try:
            while True:
                b0, b1 = self._read(2)
                opcode, n = b0 & 0x0f, b1 & 0x7f
                if n == 126:
                    n = struct.unpack("!H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8))[0]
                mask = self._read(4) if b1 & 0x80 else None
                data = self._read(n)
                if mask:
                    data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
                if opcode == 0x9:           # ping
                    self._send_frame(0xa, data)
                    continue
                if opcode == 0x8:           # close
                    raise ConnectionError("websocket closed by the peer")
                if opcode in (0x1, 0x2, 0x0):
                    parts.append(data)
                    if b0 & 0x80:
                        return b"".join(parts).decode()
        except socket.timeout:
            return None

    def close(self):
        try:
            self._send_frame(0x8, b"")
        except OSError:
            pass
        self.sock.close()


class CdpError(Exception):
    pass


class Browser:
    """chromium --headless=new with one page, driven over DevTools."""

    def __init__(self, workdir, log_path, extra_args=(), headless=True):
        """<extra_args>: more command-line switches (the WebRTC test's
        fake media devices, certificate and ICE switches); headless=False
        opens a window (needs a display: debugging by hand)."""
        self.profile = os.path.join(workdir, "chromium-profile")
        os.makedirs(self.profile, exist_ok=True)
        self.logpath = log_path
        self.log = open(log_path, "ab")
        argv = [CHROMIUM] + (["--headless=new"] if headless else []) + [
            "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-sync",
            "--disable-component-update", "--metrics-recording-only",
            "--password-store=basic", "--window-size=1400,1000",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--user-data-dir=" + self.profile]
        argv += list(extra_args) + ["about:blank"]
        self.proc = subprocess.Popen(
            argv,
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL)
        self.name = "chromium"
        self.ws = None
        self.next_id = 0
        self.events = []

    # the harness's owned-process interface (Ctx.cleanup)
    def running(self):
        return self.proc.poll() is None

    def stop(self, sig=None, timeout=5):
        if self.ws:
            self.ws.close()
            self.ws = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode, 0

    def tail(self, n=20):
        try:
            with open(self.log.name, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def connect(self, timeout=20):
        """Wait for the DevTools port, attach to the page. True if done."""
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        end = time.monotonic() + timeout
        port = None
        while time.monotonic() < end and self.running():
            try:
                with open(port_file) as f:
                    port = int(f.readline().strip())
                break
            except (OSError, ValueError):
                time.sleep(0.1)
        if not port:
            return False
        page = None
        while time.monotonic() < end and not page:
            try:
                with urllib.request.urlopen(
                        "http://127.0.0.1:%d/json/list" % port,
                        timeout=2) as r:
                    targets = json.loads(r.read())
                page = next((t for t in targets if t.get("type") == "page"
                             and t.get("webSocketDebuggerUrl")), None)
            except (OSError, ValueError):
                pass
            if not page:
                time.sleep(0.1)
        if not page:
            return False
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        for dom in ("Page", "Runtime", "Log"):
            self.call(dom + ".enable")
        return True

    def call(self, method, timeout=10, **params):
        """One command; its result dict, or CdpError. Events that arrive
        meanwhile are kept in self.events."""
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method,
                                 "params": params}))
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CdpError("%s: no reply in %d s" % (method, timeout))
            raw = self.ws.recv(left)
            if raw is None:
                continue
            msg = json.loads(raw)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise CdpError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def pump(self, timeout):
        """Collect events for up to <timeout> s."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            raw = self.ws.recv(left)
            if raw is not None:
                msg = json.loads(raw)
                if "method" in msg:
                    self.events.append(msg)

    def navigate(self, url, timeout=15):
        """Load <url> and wait for its load event. True if it came."""
        self.events = [e for e in self.events
                       if e["method"] != "Page.loadEventFired"]
        self.call("Page.navigate", url=url)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(e["method"] == "Page.loadEventFired" for e in self.events):
                return True
            self.pump(0.1)
        return False

    def eval(self, expr, timeout=10):
        """Value of JavaScript <expr> (JSON-able; promises awaited)."""
        r = self.call("Runtime.evaluate", timeout=timeout, expression=expr,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise CdpError("eval: %s" % r["exceptionDetails"].get(
                "exception", {}).get("description", r["exceptionDetails"]))
        return r.get("result", {}).get("value")

    def wait_eval(self, expr, timeout, interval=0.2):
        """Poll <expr> until it is truthy or <timeout> s pass; its last
        value."""
        end = time.monotonic() + timeout
        v = None
        while True:
            try:
                v = self.eval(expr)
            except CdpError:
                v = None
            if v or time.monotonic() >= end:
                return v
            self.pump(interval)

    def type_text(self, text):
        """Type into the focused element as keyboard input would."""
        self.call("Input.insertText", text=text)

    def screenshot(self, path):
        r = self.call("Page.captureScreenshot", timeout=20, format="png",
                      captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))

    def problems(self):
        """Console errors, uncaught exceptions and CSP reports seen so
        far, as strings."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                d = p.get("exceptionDetails", {})
                out.append("exception: %s" % d.get("exception", {}).get(
                    "description", d.get("text")))
            elif e["method"] == "Runtime.consoleAPICalled" and \
                    p.get("type") in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], " ".join(
                    str(a.get("value", a.get("description")))
                    for a in p.get("args", []))))
            elif e["method"] == "Log.entryAdded":
                en = p.get("entry", {})
                if en.get("level") == "error":
                    out.append("log: %s %s" % (en.get("text"),
                                               en.get("url", "")))
        return out

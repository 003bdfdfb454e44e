# tests/integration/lib/rtpengine.py  Debian's rtpengine as a reference relay
#
# Runs /usr/bin/rtpengine (userspace only, no kernel table, no config
# file) on 127.0.0.1 with a free NG port and a private RTP port range,
# so the media scenarios can prove they encode rtpengine's own NG
# semantics. The object speaks the same interface as sbctest.Mediad:
# ng(), ng_raw(), wait_ready(), running(), stop(), tail(), name, logpath,
# and it registers itself in ctx.owned so Ctx.cleanup() stops our pid.

import os
import shutil
import signal
import socket
import subprocess
import time

from sbctest import bdecode, bencode, free_port, s, wait_until

RTPENGINE_BIN = os.environ.get("RTPENGINE_BIN",
                               shutil.which("rtpengine")
                               or "/usr/bin/rtpengine")


def available():
    return os.access(RTPENGINE_BIN, os.X_OK)


class RtpEngine:
    kind = "rtpengine"

    def __init__(self, ctx, ports=200, timeout=None, extra=()):
        self.ctx = ctx
        self.name = "rtpengine"
        self.ng_port = free_port()
        self.port_min = free_port(even=True)
        self.port_max = self.port_min + ports - 1
        self.addr = ("127.0.0.1", self.ng_port)
        self.logpath = os.path.join(ctx.dir, "rtpengine.log")
        self.args = [
            RTPENGINE_BIN, "--config-file=none", "--foreground",
            "--log-stderr", "--log-level=7", "--table=-1",
            "--interface=127.0.0.1",
            "--listen-ng=127.0.0.1:%d" % self.ng_port,
            "--port-min=%d" % self.port_min,
            "--port-max=%d" % self.port_max,
            "--num-threads=2",
        ]
        if timeout:
            self.args.append("--timeout=%d" % timeout)
        self.args += list(extra)
        self.proc = None
        self.log = None
        self._n = 0

    def start(self):
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     cwd=self.ctx.dir)
        self.ctx.owned.append(self)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal our own pid and wait; returns (exit code, seconds)."""
        if self.proc is None:
            return None, 0
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout(killed)"
        dt = time.monotonic() - t0
        self.log.close()
        self.proc = None
        return rc, dt

    def tail(self, n=40):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def ng_raw(self, data, timeout=1.0):
        """Send one datagram, return the reply bytes or None."""
        so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        so.settimeout(timeout)
        try:
            so.sendto(data, self.addr)
            return so.recvfrom(65535)[0]
        except OSError:
            return None
        finally:
            so.close()

    def ng(self, cmd, cookie=None, **kv):
        """Send an NG command dict; returns the decoded reply or None."""
        self._n += 1
        cookie = cookie or ("r%d_%d" % (os.getpid(), self._n))
        d = {"command": cmd}
        d.update(kv)
        r = self.ng_raw(cookie.encode() + b" " + bencode(d))
        if r is None:
            return None
        c, _, body = r.partition(b" ")
        if c != cookie.encode():
            raise ValueError("cookie mismatch")
        return bdecode(body)

    def wait_ready(self, timeout=10):
        def pong():
            if not self.running():
                raise RuntimeError("rtpengine exited")
            r = self.ng("ping")
            return r and s(r.get("result")) == "pong"
        return wait_until(pong, timeout, 0.1)

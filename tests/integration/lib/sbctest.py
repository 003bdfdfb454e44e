# tests/integration/lib/sbctest.py  start mediad + sbc on loopback, drive them
#
# The harness starts only the processes it owns and stops them by pid; it
# waits for readiness by polling (NG ping, HTTP), never by fixed sleeps.
# Checks are recorded with Ctx.check(); the scenario fails if any failed.

import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC_ROOT = os.environ.get("SRC_ROOT", os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "..")))
SBC_BIN = os.environ.get("SBC_BIN", os.path.join(SRC_ROOT, "build/sbc/sbc"))
MEDIAD_BIN = os.environ.get("MEDIAD_BIN",
                            os.path.join(SRC_ROOT, "build/mediad/mediad"))


# ---- bencode (NG) --------------------------------------------------------

def bencode(v):
    if isinstance(v, bool):
        raise TypeError("bool")
    if isinstance(v, int):
        return b"i%de" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, (bytes, bytearray)):
        return b"%d:%s" % (len(v), bytes(v))
    if isinstance(v, list):
        return b"l" + b"".join(bencode(x) for x in v) + b"e"
    if isinstance(v, dict):
        out = b"d"
        for k in sorted(v, key=lambda k: k.encode() if isinstance(k, str) else k):
            out += bencode(k) + bencode(v[k])
        return out + b"e"
    raise TypeError(type(v))


def bdecode(b):
    def dec(i):
        c = b[i:i + 1]
        if c == b"i":
            j = b.index(b"e", i)
            return int(b[i + 1:j]), j + 1
        if c == b"l":
            i += 1
            out = []
            while b[i:i + 1] != b"e":
                v, i = dec(i)
                out.append(v)
            return out, i + 1
        if c == b"d":
            i += 1
            out = {}
            while b[i:i + 1] != b"e":
                k, i = dec(i)
                v, i = dec(i)
                out[k.decode() if isinstance(k, bytes) else k] = v
            return out, i + 1
        if c.isdigit():
            j = b.index(b":", i)
            n = int(b[i:j])
            s = b[j + 1:j + 1 + n]
            if len(s) != n:
                raise ValueError("truncated string")
            return s, j + 1 + n
        raise ValueError("bad byte %r at %d" % (c, i))
    v, i = dec(0)
    if i != len(b):
        raise ValueError("trailing bytes")
    return v


def s(v):
    """bytes from a decoded reply as str"""
    return v.decode() if isinstance(v, bytes) else v


# ---- ports, waiting -------------------------------------------------------

_used_ports = set()


def _bindable(port, udp, tcp):
    for kind in ((socket.SOCK_DGRAM,) if udp else ()) + \
            ((socket.SOCK_STREAM,) if tcp else ()):
        so = socket.socket(socket.AF_INET, kind)
        try:
            so.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            so.close()
    return True


def free_port(udp=True, tcp=True, even=False):
    """A loopback port free for UDP and/or TCP right now. Linux hands out
    odd ports for bind(0), so even ones are drawn from 20000..29998."""
    for _ in range(500):
        if even:
            port = random.randrange(20000, 29000, 2)
        else:
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            t.close()
        if port in _used_ports or not _bindable(port, udp, tcp):
            continue
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port")


def wait_until(fn, timeout, interval=0.1):
    """Poll fn() until it returns a true value or <timeout> s pass."""
    end = time.monotonic() + timeout
    while True:
        try:
            v = fn()
        except Exception:
            v = None
        if v:
            return v
        if time.monotonic() >= end:
            return v
        time.sleep(interval)


# ---- processes ------------------------------------------------------------

class Process:
    """A process of ours: started with <argv> in the scenario's directory,
    its output in <name>.log, stopped by its own pid."""

    def __init__(self, ctx, name, argv):
        self.ctx = ctx
        self.name = name
        self.argv = argv
        self.logpath = os.path.join(ctx.dir, name + ".log")
        self.proc = None
        self.log = None

    def start(self):
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.ctx.dir)
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
            rc = self.proc.wait()
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


class Daemon(Process):
    """One of our daemons: '<binary> -f <name>.conf' with <conf_text>."""

    def __init__(self, ctx, name, binary, conf_text):
        self.binary = binary
        self.conf = os.path.join(ctx.dir, name + ".conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        super().__init__(ctx, name, [binary, "-f", self.conf])


class NgPeer:
    """NG client side for a relay listening on self.addr (mediad or
    rtpengine): raw datagrams, commands, readiness by ping."""

    _n = 0

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
        NgPeer._n += 1
        cookie = cookie or ("t%d_%d" % (os.getpid(), NgPeer._n))
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
                raise RuntimeError("%s exited" % self.name)
            r = self.ng("ping")
            return r and s(r.get("result")) == "pong"
        return wait_until(pong, timeout, 0.1)


def run_check_config(binary, conf_path):
    """Run '<binary> -f conf -t'; returns (exit code, stdout+stderr)."""
    p = subprocess.run([binary, "-f", conf_path, "-t"], capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout + p.stderr


class Mediad(NgPeer, Daemon):
    def __init__(self, ctx, **keys):
        self.ng_port = keys.pop("ng_port", None) or free_port()
        self.shm_name = keys.pop("shm_name", None) or ctx.shm_name
        pmin = free_port(even=True)
        conf = {
            "ng_listen": "127.0.0.1:%d" % self.ng_port,
            "media_ip": "127.0.0.1",
            "port_min": str(pmin),
            "port_max": str(pmin + 1000),
            "workers": "2",
            "shm_name": self.shm_name,
            "log_level": "debug",
        }
        conf.update({k: str(v) for k, v in keys.items()})
        text = "".join("%s %s\n" % kv for kv in conf.items())
        super().__init__(ctx, "mediad", MEDIAD_BIN, text)
        self.addr = ("127.0.0.1", self.ng_port)


class Sbc(Daemon):
    def __init__(self, ctx, mediad_ng_port, shm_name=None, **keys):
        self.sip_port = keys.pop("sip_port", None) or free_port()
        self.api_port = free_port(udp=False)
        self.token = keys.pop("token", "test-token-%d" % os.getpid())
        conf = {
            "sip_udp": "127.0.0.1:%d" % self.sip_port,
            "sip_tcp": "127.0.0.1:%d" % self.sip_port,
            "sip_ws": "",
            "db_path": os.path.join(ctx.dir, "sbc.db"),
            "api_listen": "127.0.0.1:%d" % self.api_port,
            "api_token": self.token,
            "media_ng": "127.0.0.1:%d" % mediad_ng_port,
            "shm_name": shm_name or ctx.shm_name,
            "log_level": "debug",
        }
        conf.update({k: str(v) for k, v in keys.items()})
        text = "".join(("%s %s\n" % kv) if kv[1] != "" else ("%s\n" % kv[0])
                       for kv in conf.items())
        super().__init__(ctx, "sbc", SBC_BIN, text)

    def http(self, method, path, body=None, token=None, headers=None,
             timeout=5):
        """One HTTP request; returns (status, headers dict, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.api_port,
                                       timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def health(self):
        st, _, b = self.http("GET", "/health")
        return st, json.loads(b)

    def wait_ready(self, timeout=10):
        def up():
            if not self.running():
                raise RuntimeError("sbc exited")
            return self.http("GET", "/health", timeout=1)[0] in (200, 503)
        return wait_until(up, timeout, 0.1)

    def metric(self, name, labels=None):
        """Value of one sample in /metrics, or None."""
        st, _, b = self.http("GET", "/metrics")
        if st != 200:
            return None
        want = name
        if labels:
            want += "{" + ",".join('%s="%s"' % kv
                                   for kv in sorted(labels.items())) + "}"
        for line in b.decode().splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r"^(\S+)\s+(\S+)", line)
            if not m:
                continue
            key = m.group(1)
            if "{" in key:
                n, _, rest = key.partition("{")
                items = sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', rest))
                key = n + "{" + ",".join('%s="%s"' % kv for kv in items) + "}"
            if key == want:
                return float(m.group(2))
        return None


def sipp(ctx, scenario, target, transport="u1", calls=1, extra=(),
         timeout=30):
    """Run sipp as a client against <target>; returns its exit code."""
    sipp_bin = shutil.which("sipp")
    if not sipp_bin:
        return None
    port = free_port()
    args = [sipp_bin, "-sf", scenario, target, "-t", transport,
            "-m", str(calls), "-i", "127.0.0.1", "-p", str(port),
            "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin",
            "-trace_err", "-error_file",
            os.path.join(ctx.dir, "sipp-%d.err" % port)]
    args += list(extra)
    p = subprocess.run(args, capture_output=True, text=True,
                       timeout=timeout + 15, stdin=subprocess.DEVNULL,
                       cwd=ctx.dir)
    if p.returncode != 0:
        ctx.note("sipp %s exit %d:\n%s" % (os.path.basename(scenario),
                                         p.returncode, p.stdout[-2000:]
                                         + p.stderr[-2000:]))
    return p.returncode


# ---- scenario context -------------------------------------------------------

class Ctx:
    def __init__(self, scenario_dir):
        self.scenario_dir = scenario_dir
        self.name = os.path.basename(os.path.normpath(scenario_dir))
        self.dir = tempfile.mkdtemp(prefix="sbctest-%s-" % self.name)
        self.shm_name = "/sbc-test-%d" % os.getpid()
        self.owned = []
        self.passed = 0
        self.failed = []

    def path(self, rel):
        return os.path.join(self.scenario_dir, rel)

    def note(self, msg):
        print("  note: " + msg.replace("\n", "\n        "))

    def check(self, what, cond, detail=""):
        if cond:
            self.passed += 1
            print("ok   " + what)
        else:
            self.failed.append(what)
            print("FAIL " + what + ((": " + str(detail)) if detail else ""))
        return cond

    def cleanup(self):
        for d in self.owned:
            if d.running():
                d.stop(signal.SIGKILL, 5)
        for n in (self.shm_name,):
            try:
                os.unlink("/dev/shm" + n)
            except OSError:
                pass

    def finish(self):
        if self.failed:
            for d in self.owned:
                print("--- last lines of %s log (%s):" % (d.name, d.logpath))
                print(d.tail())
        print("%s: %d passed, %d failed" % (self.name, self.passed,
                                             len(self.failed)))
        if not self.failed:
            shutil.rmtree(self.dir, ignore_errors=True)
        return 1 if self.failed else 0

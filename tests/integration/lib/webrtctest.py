# tests/integration/lib/webrtctest.py  helpers of the browser (WebRTC) scenario
#
# tests/integration/webrtc/ runs Debian's Chromium with JsSIP against the
# sbc; this module holds what that needs beside cdp.py and siptest.py:
#   - ensure_jssip(): JsSIP (and esbuild, which bundles JsSIP's CommonJS
#     lib/ into one browser script: npm ships no browser build) installed
#     with `npm ci` from the scenario's package-lock.json into its
#     node_modules/ (not tracked), then bundled; redone only when the
#     lock file changed;
#   - PageServer: the test page and the bundle over http://127.0.0.1
#     (a secure context, as getUserMedia wants), nothing else;
#   - FarEnd: the far end's RTP endpoint: echoes every RTP packet to its
#     source (under another SSRC, so the browser sees a stream of its
#     own) and records what came: payload types, sources, RFC 4733
#     telephone-events;
#   - make_cert(): a self-signed certificate for 127.0.0.1 (WSS) and its
#     SPKI hash for Chromium's --ignore-certificate-errors-spki-list;
#   - chromium_args(): the switches for fake media and loopback ICE.
# Every wait is bounded; threads and servers are ours and stopped.

import base64
import collections
import fcntl
import hashlib
import http.server
import os
import select
import shutil
import subprocess
import threading
import time

from media import is_stun, rtp_parse
from siptest import MediaEp

NPM = shutil.which("npm")


# ---- JsSIP from npm ----------------------------------------------------------

def ensure_jssip(ctx, sdir, timeout=240):
    """The bundled JsSIP of scenario dir <sdir>: its path, or None (the
    reason is a failed check). npm ci + the package's bundle script run
    when node_modules/.bundle/ has no bundle made from this lock file."""
    lock = os.path.join(sdir, "package-lock.json")
    nm = os.path.join(sdir, "node_modules")
    bundle = os.path.join(nm, ".bundle", "jssip.min.js")
    stamp = os.path.join(nm, ".bundle", "lock.sha256")
    with open(lock, "rb") as f:
        want = hashlib.sha256(f.read()).hexdigest()

    def fresh():
        try:
            with open(stamp) as f:
                return f.read().strip() == want and os.path.getsize(
                    bundle) > 10000
        except OSError:
            return False

    if fresh():
        return bundle
    if not ctx.check("npm installed (Debian packages nodejs, npm: "
                     "tools/bootstrap)", NPM is not None):
        return None
    # two runs at once would both rewrite node_modules: one at a time
    with open(lock, "rb") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)
        try:
            if fresh():
                return bundle
            log = os.path.join(ctx.dir, "npm.log")
            t0 = time.monotonic()
            with open(log, "ab") as out:
                ok = True
                for argv in ([NPM, "ci", "--ignore-scripts", "--no-audit",
                              "--no-fund", "--loglevel=warn"],
                             [NPM, "run", "-s", "bundle"]):
                    try:
                        p = subprocess.run(argv, cwd=sdir, stdout=out,
                                           stderr=subprocess.STDOUT,
                                           stdin=subprocess.DEVNULL,
                                           timeout=timeout)
                        ok = p.returncode == 0
                    except subprocess.TimeoutExpired:
                        ok = False
                    if not ok:
                        break
            with open(log, errors="replace") as f:
                tail = f.read()[-1500:]
            if not ctx.check("npm ci + bundle: JsSIP from package-lock.json "
                             "(%.1f s)" % (time.monotonic() - t0),
                             ok and os.path.exists(bundle)
                             and os.path.getsize(bundle) > 10000, tail):
                return None
            with open(stamp, "w") as f:
                f.write(want + "\n")
            return bundle
        finally:
            fcntl.flock(lk, fcntl.LOCK_UN)


def jssip_version(sdir):
    import json
    try:
        with open(os.path.join(sdir, "node_modules", "jssip",
                               "package.json")) as f:
            return json.load(f).get("version")
    except (OSError, ValueError):
        return None


# ---- the page over http://127.0.0.1 ------------------------------------------

class PageServer:
    """Serves <files> {url path: (file path, content type)} on
    127.0.0.1:<port>, in a thread; 404 for anything else. Has the
    harness's owned-process interface (ctx.owned)."""

    def __init__(self, ctx, files):
        self.name = "page-server"
        self.logpath = os.path.join(ctx.dir, "page-server.log")
        self.log = open(self.logpath, "a")
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                if path == "/":
                    path = "/index.html"
                f = files.get(path)
                if not f:
                    self.send_error(404)
                    return
                with open(f[0], "rb") as fh:
                    body = fh.read()
                self.send_response(200)
                self.send_header("Content-Type", f[1])
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, fmt, *args):
                srv.log.write("%s\n" % (fmt % args))
                srv.log.flush()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()
        ctx.owned.append(self)

    def url(self, path="/index.html"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def running(self):
        return self.thread.is_alive()

    def stop(self, sig=None, timeout=5):
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.thread.join(timeout)
        self.httpd.server_close()
        if not self.log.closed:
            self.log.close()
        return 0, 0

    def tail(self, n=20):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


# ---- the far end's media -----------------------------------------------------

class FarEnd:
    """An RTP endpoint on 127.0.0.1 (even port, RTCP on +1) that echoes
    each RTP packet back to where it came from, its SSRC XORed with
    ECHO_SSRC_XOR, and records: RTP packets in/out, sources, payload type
    counts, the non-PCMU packets (pt, seq, ts, marker, payload), how many
    PCMU payloads were not silence, RTCP and STUN datagrams. Has the
    owned-process interface."""

    ECHO_SSRC_XOR = 0x5eed0001

    def __init__(self, ctx, name="farend"):
        self.name = name
        self.logpath = os.path.join(ctx.dir, name + ".log")
        self.ep = MediaEp(name)
        self.ep.rtcp.setblocking(False)
        self.addr = self.ep.addr
        self.lock = threading.Lock()
        self.reset()
        self.stopping = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        ctx.owned.append(self)

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.rx = 0
            self.tx = 0
            self.rtcp = 0
            self.stun = 0
            self.not_rtp = 0
            self.pts = collections.Counter()
            self.srcs = set()
            self.ssrcs = set()
            self.voiced = 0            # PCMU payloads that are not silence
            self.others = []           # (pt, seq, ts, marker, payload)
            self.first_at = None

    def _loop(self):
        socks = [self.ep.rtp, self.ep.rtcp]
        while not self.stopping:
            rd, _, _ = select.select(socks, [], [], 0.05)
            for so in rd:
                for _ in range(200):
                    try:
                        d, a = so.recvfrom(65535)
                    except (BlockingIOError, OSError):
                        break
                    self._got(so, d, a)

    def _got(self, so, d, a):
        with self.lock:
            if is_stun(d):
                self.stun += 1
                return
            if so is self.ep.rtcp:
                self.rtcp += 1
                return
            p = rtp_parse(d)
            if p is None or 72 <= (d[1] & 0x7f) <= 76:
                self.not_rtp += 1     # RTCP on the RTP port (rtcp-mux)
                return
            self.rx += 1
            if self.first_at is None:
                self.first_at = time.monotonic()
            self.srcs.add(a)
            self.ssrcs.add(p["ssrc"])
            self.pts[p["pt"]] += 1
            if p["pt"] == 0:
                if any(b not in (0xff, 0x7f) for b in p["payload"]):
                    self.voiced += 1
            elif len(self.others) < 5000:
                self.others.append((p["pt"], p["seq"], p["ts"],
                                    p["marker"], bytes(p["payload"])))
            ssrc = p["ssrc"] ^ self.ECHO_SSRC_XOR
            echo = d[:8] + ssrc.to_bytes(4, "big") + d[12:]
            try:
                self.ep.rtp.sendto(echo, a)
                self.tx += 1
            except OSError:
                pass

    def snapshot(self):
        with self.lock:
            return {"rx": self.rx, "tx": self.tx, "rtcp": self.rtcp,
                    "stun": self.stun, "not_rtp": self.not_rtp,
                    "pts": dict(self.pts), "srcs": sorted(self.srcs),
                    "ssrcs": len(self.ssrcs), "voiced": self.voiced,
                    "others": list(self.others)}

    def events(self, pt):
        """RFC 4733 events of payload type <pt>, one per RTP timestamp in
        arrival order: [{event, end, duration, packets, marker}]."""
        out = collections.OrderedDict()
        for p, seq, ts, marker, pl in self.snapshot()["others"]:
            if p != pt or len(pl) < 4:
                continue
            e = out.setdefault(ts, {"event": pl[0], "end": False,
                                    "duration": 0, "packets": 0,
                                    "marker": False, "mixed": False})
            if pl[0] != e["event"]:
                e["mixed"] = True
            e["end"] = e["end"] or bool(pl[1] & 0x80)
            e["duration"] = max(e["duration"], int.from_bytes(pl[2:4],
                                                               "big"))
            e["packets"] += 1
            e["marker"] = e["marker"] or marker
        return list(out.values())

    def running(self):
        return self.thread.is_alive()

    def stop(self, sig=None, timeout=5):
        self.stopping = True
        self.thread.join(timeout)
        self.ep.close()
        with open(self.logpath, "w") as f:
            s = self.snapshot()
            s["others"] = len(s["others"])
            f.write("%s\n" % s)
        return 0, 0

    def tail(self, n=20):
        try:
            with open(self.logpath) as f:
                return f.read()
        except OSError:
            return ""


DTMF_EVENT = {d: i for i, d in enumerate("0123456789*#ABCD")}


# ---- TLS certificate for WSS ---------------------------------------------------

def make_cert(ctx, name="sbc-wss"):
    """A self-signed EC certificate for IP 127.0.0.1 (2 days), key and
    certificate in one PEM (sbc's tls_cert). Returns (pem path, base64
    SHA-256 of its SubjectPublicKeyInfo) or (None, error text)."""
    key = os.path.join(ctx.dir, name + ".key")
    crt = os.path.join(ctx.dir, name + ".crt")
    pem = os.path.join(ctx.dir, name + ".pem")
    openssl = shutil.which("openssl")
    if not openssl:
        return None, "openssl not installed"
    p = subprocess.run([openssl, "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                        "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"],
                       capture_output=True, text=True, timeout=30,
                       stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        return None, p.stderr
    with open(pem, "w") as out:
        for f in (key, crt):
            with open(f) as src:
                out.write(src.read())
    pub = subprocess.run([openssl, "x509", "-in", crt, "-noout", "-pubkey"],
                         capture_output=True, timeout=30)
    der = subprocess.run([openssl, "pkey", "-pubin", "-outform", "der"],
                         input=pub.stdout, capture_output=True, timeout=30)
    if pub.returncode != 0 or der.returncode != 0 or not der.stdout:
        return None, (pub.stderr + der.stderr).decode(errors="replace")
    spki = base64.b64encode(hashlib.sha256(der.stdout).digest()).decode()
    return pem, spki


# ---- Chromium -----------------------------------------------------------------

def chromium_args(spki=None):
    """Switches for the WebRTC test on top of cdp.Browser's own:
    - fake devices: a synthetic microphone, permission granted without
      a prompt (a granted permission also turns off mDNS candidates;
      WebRtcHideLocalIpsWithMdns is disabled too, to be sure);
    - loopback: Chromium leaves 127.0.0.1 out of ICE gathering unless
      told (--allow-loopback-in-peer-connection); mediad is on loopback;
    - autoplay without a gesture (the remote audio element);
    - WSS to the sbc's self-signed certificate: only that key is
      trusted (--ignore-certificate-errors-spki-list)."""
    a = ["--use-fake-ui-for-media-stream",
         "--use-fake-device-for-media-stream",
         "--allow-loopback-in-peer-connection",
         "--disable-features=WebRtcHideLocalIpsWithMdns",
         "--autoplay-policy=no-user-gesture-required"]
    if spki:
        a.append("--ignore-certificate-errors-spki-list=" + spki)
    return a

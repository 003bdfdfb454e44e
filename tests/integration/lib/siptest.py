# tests/integration/lib/siptest.py  helpers for the SIP scenarios (sip-*)
#
# The sip-* scenarios run mediad + sbc (sbctest) and drive the sbc with
# sipp instances playing phones (127.0.0.1) and trunks (127.0.0.2,
# 127.0.0.3: sipp -i), using the scenarios in tools/sipp/. This module:
#   - starts the pair (SipEnv) with `domains example.com`, and restarts
#     sbc on the same ports and database;
#   - provisions by writing rows into the sbc's SQLite file (Db), which
#     the sbc reads at call time (WAL), and reads registrations and CDRs;
#   - runs sipp in the background (Sipp) with its message trace, which
#     is flushed as it goes, so a scenario can read what each side
#     received while the call is up;
#   - checks what one side received against what the other sent
#     (topology hiding), the SDPs against mediad's address and range, and
#     that RTP sent to the SDP each side received reaches the other side.
# Every wait is bounded; processes are ours and stopped by pid.

import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import time

import sbctest
from media import RtpStream, Sdp, is_stun
from sbctest import Mediad, Sbc, free_port, wait_until

SIPP_DIR = os.path.join(sbctest.SRC_ROOT, "tools", "sipp")
SIPP_BIN = shutil.which("sipp")
DOMAIN = "example.com"
PHONE_IP = "127.0.0.1"
SIPP_TIMEOUT = 20       # s, the default bound of one sipp run


def xml(name):
    return os.path.join(SIPP_DIR, name)


def ha1(user, domain, password, algo="md5"):
    h = hashlib.md5 if algo == "md5" else hashlib.sha256
    return h(("%s:%s:%s" % (user, domain, password)).encode()).hexdigest()


def loopback_usable(ip):
    """True when this host can bind <ip> (any 127/8 address on Linux)."""
    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        so.bind((ip, 0))
        return True
    except OSError:
        return False
    finally:
        so.close()


def udp_bound(ip, port):
    """True once something listens on <ip>:<port>/udp (read from /proc,
    so a probe cannot race the owner's bind())."""
    want = "%s:%04X" % ("".join("%02X" % int(b) for b in
                                reversed(ip.split("."))), port)
    try:
        with open("/proc/net/udp") as f:
            return any(ln.split()[1] == want for ln in f.readlines()[1:])
    except OSError:
        return False


def free_udp_port(ip):
    """A UDP port free on <ip> (and not handed out before in this run)."""
    for _ in range(200):
        so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            so.bind((ip, 0))
            port = so.getsockname()[1]
        finally:
            so.close()
        if port not in sbctest._used_ports:
            sbctest._used_ports.add(port)
            return port
    raise RuntimeError("no free port on %s" % ip)


# ---- provisioning: the sbc's SQLite file ---------------------------------

class Db:
    """Rows in the sbc's database (schema: sbc/db.c). One short connection
    per operation; the sbc keeps the file in WAL mode."""

    def __init__(self, path):
        self.path = path

    def _conn(self):
        c = sqlite3.connect(self.path, timeout=5)
        c.row_factory = sqlite3.Row
        c.execute("PRAGMA foreign_keys = ON")
        return c

    def exec(self, sql, args=()):
        c = self._conn()
        try:
            with c:
                cur = c.execute(sql, args)
                return cur.lastrowid
        finally:
            c.close()

    def rows(self, sql, args=()):
        c = self._conn()
        try:
            return [dict(r) for r in c.execute(sql, args).fetchall()]
        finally:
            c.close()

    def subscriber(self, user, password, domain=DOMAIN, display_name="",
                   caller_id="", enabled=True):
        self.exec("INSERT OR REPLACE INTO subscribers (username, domain, "
                  "ha1_md5, ha1_sha256, display_name, caller_id, enabled) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (user, domain, ha1(user, domain, password),
                   ha1(user, domain, password, "sha256"), display_name,
                   caller_id, 1 if enabled else 0))

    def trunk(self, name, host, port, transport="udp", inbound_cidrs=(),
              username="", password="", realm=""):
        self.exec("INSERT OR REPLACE INTO trunks (name, host, port, "
                  "transport, inbound_cidrs, username, password, realm) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (name, host, port, transport,
                   json.dumps(list(inbound_cidrs)), username, password,
                   realm))

    def did(self, number, target, trunk=None, description=""):
        self.exec("INSERT OR REPLACE INTO dids (number, target, trunk, "
                  "description) VALUES (?, ?, ?, ?)",
                  (number, target, trunk, description))

    def route(self, prefix, trunks, strip=0, prepend="", priority=0):
        rid = self.exec("INSERT INTO routes (prefix, strip, prepend, "
                        "priority) VALUES (?, ?, ?, ?)",
                        (prefix, strip, prepend, priority))
        for pos, t in enumerate(trunks):
            self.exec("INSERT INTO route_trunks (route_id, pos, trunk) "
                      "VALUES (?, ?, ?)", (rid, pos, t))
        return rid

    def registrations(self, aor=None):
        if aor:
            return self.rows("SELECT * FROM registrations WHERE aor = ?",
                             (aor,))
        return self.rows("SELECT * FROM registrations")

    def cdrs(self):
        return self.rows("SELECT * FROM cdrs ORDER BY id")

    def wait_cdrs(self, n, timeout=5):
        """The CDR table once it has >= <n> rows (the sbc batches writes
        every 200 ms), or what it has after <timeout> s."""
        got = wait_until(lambda: len(self.cdrs()) >= n and self.cdrs(),
                         timeout, 0.1)
        return got or self.cdrs()


# ---- the daemons ---------------------------------------------------------

class SipEnv:
    """mediad + sbc on loopback for the SIP scenarios; .db provisions."""

    def __init__(self, ctx, **sbc_keys):
        self.ctx = ctx
        self.port_min = free_port(even=True)
        self.port_max = self.port_min + 1000
        self.sbc_keys = dict(sbc_keys)
        self.sbc_keys.setdefault("domains", DOMAIN)
        self.med = None
        self.sbc = None
        self.db = None

    def start(self):
        """Start both and wait: NG ping, /health, mediad seen up by sbc.
        Returns True when all of it happened."""
        ctx = self.ctx
        self.med = Mediad(ctx, port_min=self.port_min,
                          port_max=self.port_max)
        self.med.start()
        if not ctx.check("mediad answers NG ping", self.med.wait_ready()):
            return False
        return self.start_sbc()

    def start_sbc(self, sip_port=None):
        ctx = self.ctx
        keys = dict(self.sbc_keys)
        if sip_port:
            keys["sip_port"] = sip_port
        self.sbc = Sbc(ctx, self.med.ng_port, **keys)
        self.sbc.start()
        if not ctx.check("sbc ready (/health answers) on SIP port %d"
                         % self.sbc.sip_port, self.sbc.wait_ready()):
            return False

        def media_up():
            st, h = self.sbc.health()
            return st == 200 and h.get("mediad") == "up"
        if not ctx.check("sbc sees mediad up", wait_until(media_up, 15,
                                                          0.1)):
            return False
        self.db = Db(os.path.join(ctx.dir, "sbc.db"))
        return True

    def restart_sbc(self):
        """SIGTERM sbc (exit 0 expected), start it again on the same SIP
        port and database. Returns (exit code, ready)."""
        port = self.sbc.sip_port
        rc, dt = self.sbc.stop(signal.SIGTERM)
        self.ctx.check("sbc SIGTERM: exit 0 within 10 s", rc == 0, (rc, dt))
        return rc, self.start_sbc(sip_port=port)

    @property
    def target(self):
        return "127.0.0.1:%d" % self.sbc.sip_port

    def in_range(self, port):
        return self.port_min <= port <= self.port_max


# ---- sipp ------------------------------------------------------------------

def sipp_messages(path):
    """[(what, message text)] of a sipp -trace_msg file; <what> is the
    line before the message ("UDP message received [803] bytes :")."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    out = []
    for block in text.split("-" * 47)[1:]:
        head, _, rest = block.partition("\n")
        what, _, msg = rest.partition("\n\n")
        msg = msg.replace("\r\n", "\n")
        if not msg.strip():
            continue
        out.append((what.strip(), msg.rstrip("\n") + "\n"))
    return out


class Sipp:
    """One sipp in the background. <name> names its files in ctx.dir:
    NAME.out (stdout), NAME-messages.log (-trace_msg), NAME-errors.log.
    A client (remote given) runs -m <calls>; a server runs until
    finish() sends SIGUSR1 (sipp then ends the calls under way and exits
    0 when none failed). Keys go as -key, plus -key domain and, for the
    SDP, -key mip/-key mport when <media> (ip, port) is given."""

    def __init__(self, ctx, name, scenario, ip=PHONE_IP, port=None,
                 remote=None, keys=None, service=None, auth=None,
                 media=None, calls=1, hold_ms=None, timeout=SIPP_TIMEOUT,
                 extra=()):
        self.ctx = ctx
        self.name = name
        self.ip = ip
        self.port = port or free_udp_port(ip)
        self.server = remote is None
        self.msgfile = os.path.join(ctx.dir, name + "-messages.log")
        self.logpath = os.path.join(ctx.dir, name + ".out")
        self.deadline = time.monotonic() + timeout + 10
        k = {"domain": DOMAIN}
        if media:
            k["mip"], k["mport"] = media[0], str(media[1])
        k.update(keys or {})
        args = [SIPP_BIN, "-sf", xml(scenario)]
        if remote:
            args += [remote, "-m", str(calls)]
        args += ["-t", "u1", "-i", ip, "-p", str(self.port),
                 # sipp binds media sockets even when nothing plays: keep
                 # them on a port of ours, away from everyone's ranges
                 "-mi", ip, "-mp", str(sipp_media_port(ip)),
                 "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin",
                 "-trace_msg", "-message_file", self.msgfile,
                 "-trace_err", "-error_file",
                 os.path.join(ctx.dir, name + "-errors.log")]
        # -aa: answer OPTIONS (the registrar's keepalives, trunk probes)
        # that arrive outside any call, in client mode too
        args.append("-aa")
        if service:
            args += ["-s", service]
        if auth:
            args += ["-au", auth[0], "-ap", auth[1]]
        if hold_ms is not None:
            args += ["-d", str(hold_ms)]
        for kk, v in k.items():
            args += ["-key", kk, str(v)]
        args += list(extra)
        self.args = args
        self.log = open(self.logpath, "wb")
        self.proc = subprocess.Popen(args, stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=ctx.dir)
        self.rc = None
        ctx.owned.append(self)

    def running(self):
        return self.proc.poll() is None

    def wait_bound(self, timeout=10):
        """A server: True once its SIP port is bound (and it still runs)."""
        ok = wait_until(lambda: udp_bound(self.ip, self.port)
                        or not self.running(), timeout, 0.02)
        return bool(ok) and self.running()

    def wait(self):
        """Exit code, or 'timeout(killed)' past the deadline."""
        if self.rc is not None:
            return self.rc
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout(killed)"
        self.log.close()
        self.rc = rc
        return rc

    def finish(self):
        """A server: SIGUSR1 (finish the calls under way, then exit)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
        return self.wait()

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode, 0

    def tail(self, n=40):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def counts(self):
        """(successful, failed) calls from sipp's last statistics screen."""
        ok = bad = None
        for ln in self.tail(400).splitlines():
            m = re.match(r"\s*(Successful|Failed) call\s*\|\s*\d+\s*\|"
                         r"\s*(\d+)", ln)
            if m:
                if m.group(1) == "Successful":
                    ok = int(m.group(2))
                else:
                    bad = int(m.group(2))
        return ok, bad

    def messages(self):
        return sipp_messages(self.msgfile)

    def received(self):
        return [m for w, m in self.messages() if "received" in w]

    def sent(self):
        return [m for w, m in self.messages() if "sent" in w]

    def wait_received(self, start, n=1, timeout=10, method=None):
        """The received messages whose first line starts with <start>
        (and whose CSeq method is <method>), once there are <n>."""
        def f():
            got = [m for m in self.received() if m.startswith(start)
                   and (method is None or cseq_method(m) == method)]
            return got if len(got) >= n else None
        return wait_until(f, timeout, 0.05)

    def brief(self):
        return "%s exit %s; %s" % (self.name, self.rc, self.tail(12))


_media_ports = set()


def sipp_media_port(ip):
    """An even port P with P..P+3 free for UDP on <ip>, for sipp's own
    media sockets (-mp). 60000.. : outside mediad's ranges (20000..30000)
    and media.Endpoint's (40002..59998)."""
    for _ in range(500):
        p = random.randrange(60000, 64996, 4)
        if p in _media_ports or set(range(p, p + 4)) & sbctest._used_ports:
            continue
        socks = []
        try:
            for i in range(4):
                so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(so)
                so.bind((ip, p + i))
        except OSError:
            continue
        finally:
            for so in socks:
                so.close()
        _media_ports.add(p)
        return p
    raise RuntimeError("no free media port block on %s" % ip)


def register(ctx, name, env, user, password, port=None, expires=300,
             ip=PHONE_IP, expect=200):
    """Run tools/sipp/register.xml (or register-reject.xml for <expect>
    403) as <user> from <ip>:<port>. Returns the finished Sipp."""
    sc = "register.xml" if expect == 200 else "register-reject.xml"
    p = Sipp(ctx, name, sc, ip=ip, port=port, remote=env.target,
             service=user, auth=(user, password),
             keys={"expires": str(expires)}, timeout=15)
    p.wait()
    return p


# ---- SIP message text --------------------------------------------------

def first_line(msg):
    return (msg or "").split("\n", 1)[0].strip()


def headers(msg, name):
    """Every value of header <name> (or its compact form) in <msg>."""
    compact = {"via": "v", "from": "f", "to": "t", "call-id": "i",
               "contact": "m", "content-type": "c", "content-length": "l"}
    names = {name.lower(), compact.get(name.lower(), name.lower())}
    out = []
    head = (msg or "").split("\n\n", 1)[0]
    for ln in head.split("\n")[1:]:
        k, sep, v = ln.partition(":")
        if sep and k.strip().lower() in names:
            out.append(v.strip())
    return out


def header(msg, name):
    h = headers(msg, name)
    return h[0] if h else None


def header_names(msg):
    head = (msg or "").split("\n\n", 1)[0]
    return [ln.partition(":")[0].strip().lower()
            for ln in head.split("\n")[1:] if ":" in ln]


def body(msg):
    return (msg or "").partition("\n\n")[2]


def param(value, name):
    """;<name>=value of a header value (outside <...>), or None."""
    v = value or ""
    if ">" in v:
        v = v[v.rindex(">"):]
    for p in v.split(";")[1:]:
        k, _, x = p.partition("=")
        if k.strip().lower() == name:
            return x.strip()
    return None


def cseq_method(msg):
    c = header(msg, "CSeq") or ""
    return c.split()[-1] if c.split() else None


def status(msg):
    """Status code of a response, or None for a request."""
    m = re.match(r"SIP/2\.0 (\d{3})", msg or "")
    return int(m.group(1)) if m else None


def find(msgs, start, method=None):
    """Messages whose first line starts with <start> (and CSeq method)."""
    return [m for m in msgs if m.startswith(start)
            and (method is None or cseq_method(m) == method)]


def sdp_of(msg):
    b = body(msg)
    return Sdp(b) if b.strip().startswith("v=") else None


def sdp_addr(sdp):
    """(connection address, audio port, direction) of a parsed SDP."""
    a = sdp.audio() if sdp else None
    if not a:
        return None
    return a["conn"], a["port"], a["direction"]


# ---- topology hiding ------------------------------------------------------

def secrets(side):
    """What <side> (a Sipp) revealed in what it sent: its Call-IDs of
    dialogs it began, its tags (From of its requests, To of its
    responses), the Via branches of its requests, its Contact URIs, and
    its SIP address ip:port."""
    out = {"%s:%d" % (side.ip, side.port)}
    for m in side.sent():
        req = status(m) is None
        if req:
            v = header(m, "Via")
            b = param(v, "branch")
            if b:
                out.add(b)
            t = param(header(m, "From"), "tag")
            if t:
                out.add(t)
            if param(header(m, "To"), "tag") is None:
                cid = header(m, "Call-ID")
                if cid:
                    out.add(cid)
        else:
            t = param(header(m, "To"), "tag")
            if t:
                out.add(t)
        for c in headers(m, "Contact"):
            u = c[c.find("<") + 1:c.find(">")] if "<" in c else c
            if u:
                out.add(u)
    return out


def leaks(msgs, secret_set, extra=()):
    """[(secret, first line)] for every secret found in <msgs>."""
    found = []
    for sec in list(secret_set) + list(extra):
        pat = re.compile(r"(?<![\w.\-])" + re.escape(sec) + r"(?![\w.\-])")
        for m in msgs:
            if pat.search(m):
                found.append((sec, first_line(m)))
                break
    return found


def check_hiding(ctx, what, receiver, sender, extra=(), msgs=None):
    """Nothing <sender> revealed (and no string of <extra>) appears in
    what <receiver> received."""
    got = msgs if msgs is not None else receiver.received()
    lk = leaks(got, secrets(sender), extra)
    return ctx.check("topology hiding: %s received none of %s's "
                     "addresses, Call-ID, tags, branches, Contact%s"
                     % (receiver.name, sender.name,
                        (" nor " + ", ".join(extra)) if extra else ""),
                     got and not lk, lk[:4] if got else "nothing received")


def check_no_x_headers(ctx, trunk_side):
    got = trunk_side.received()
    bad = [(first_line(m), n) for m in got for n in header_names(m)
           if n.startswith("x-")]
    return ctx.check("no X- header in what %s (a trunk) received"
                     % trunk_side.name, got and not bad, bad[:4])


def check_sdp(ctx, env, what, msg, not_port):
    """The SDP of <msg> has c=127.0.0.1 and an audio port in mediad's
    range that is not <not_port> (the far side's own). Returns
    (ip, port, direction) or None."""
    a = sdp_addr(sdp_of(msg))
    ok = (a is not None and a[0] == "127.0.0.1" and env.in_range(a[1])
          and a[1] != not_port)
    ctx.check("%s: SDP c=127.0.0.1, audio port in mediad's range %d..%d "
              "(not the far side's %s)" % (what, env.port_min, env.port_max,
                                           not_port), ok,
              a if msg else "no such message")
    return a if ok else None


# ---- media ---------------------------------------------------------------

class MediaEp:
    """An RTP socket on <ip> (even port) and RTCP on +1, the media of
    one sipp side (its SDP says -key mip/-key mport)."""

    def __init__(self, name, ip=PHONE_IP):
        self.name = name
        self.ip = ip
        for _ in range(500):
            port = random.randrange(40002, 59998, 2)
            if {port, port + 1} & sbctest._used_ports:
                continue        # a sipp's SIP port, free between runs
            a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                a.bind((ip, port))
                b.bind((ip, port + 1))
            except OSError:
                a.close()
                b.close()
                continue
            self.rtp, self.rtcp, self.port = a, b, port
            break
        else:
            raise RuntimeError("no RTP port pair on %s" % ip)
        self.rtp.setblocking(False)
        self.addr = (ip, self.port)

    def close(self):
        self.rtp.close()
        self.rtcp.close()

    def drain(self, timeout, want=None):
        """RTP datagrams [(bytes, src)] until <want> or <timeout> s."""
        out = []
        end = time.monotonic() + timeout
        while want is None or len(out) < want:
            left = end - time.monotonic()
            if left <= 0:
                break
            rd, _, _ = select.select([self.rtp], [], [], left)
            if not rd:
                continue
            for _ in range(1000):
                try:
                    d, a = self.rtp.recvfrom(65535)
                except BlockingIOError:
                    break
                if not is_stun(d):
                    out.append((d, a))
        return out


def rtp_both_ways(ctx, what, a, a_dst, b, b_dst, n=50):
    """<a> sends <n> PCMU packets to <a_dst> (the address in the SDP a's
    side received) and <b> to <b_dst>; each must receive all of the
    other's packets, payload unchanged, from the address in its own
    received SDP (mediad's port)."""
    sa, sb = RtpStream(0), RtpStream(0)
    pa = [sa.packet(bytes([0x55]) * 160) for _ in range(n)]
    pb = [sb.packet(bytes([0xd5]) * 160) for _ in range(n)]
    for i in range(n):
        a.rtp.sendto(pa[i], a_dst)
        b.rtp.sendto(pb[i], b_dst)
        time.sleep(0.01)
    got_b = b.drain(2.0, n)
    got_a = a.drain(2.0, n)

    def ok(got, sent, src):
        want = {bytes(p) for p in sent}
        return (len(got) == len(sent) and all(d in want for d, _ in got)
                and {s for _, s in got} == {src})
    ctx.check("%s: RTP %s -> %s: %d/%d arrived unchanged from %s:%d"
              % (what, a.name, b.name, len(got_b), n, *b_dst),
              ok(got_b, pa, b_dst), {s for _, s in got_b})
    ctx.check("%s: RTP %s -> %s: %d/%d arrived unchanged from %s:%d"
              % (what, b.name, a.name, len(got_a), n, *a_dst),
              ok(got_a, pb, a_dst), {s for _, s in got_a})
    return len(got_a), len(got_b)


def skip_without_tools(ctx, ips=()):
    """Check (as failures) that sipp and the loopback addresses exist;
    returns False when the scenario cannot run."""
    ok = ctx.check("sipp installed (Debian package sip-tester)",
                   SIPP_BIN is not None)
    for ip in ips:
        ok = ctx.check("can bind loopback address %s" % ip,
                       loopback_usable(ip)) and ok
    return ok


def cdr_summary(rows):
    return [(r.get("direction"), r.get("result"), r.get("hangup_side"),
             r.get("trunk")) for r in rows]

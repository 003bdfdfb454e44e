# tests/integration/kamailio-rtpengine/expect.py  see README.md in this directory
#
# sipp UAC -> Kamailio 5.6 (rtpengine module) -> sipp UAS, mediad as the
# module's rtpengine. The UAS's media is a socket of this script (FarEnd):
# it checks the RTP the UAC played and echoes it back through the relay.
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

from media import (Endpoint, RtpStream, Sdp, encode, is_stun, ng_ok,
                   query_leg_packets, query_total_packets, rtp_parse, tone)
from sbctest import Daemon, Mediad, free_port, s, wait_until

KAMAILIO_BIN = (os.environ.get("KAMAILIO_BIN") or shutil.which("kamailio")
                or "/usr/sbin/kamailio")
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules/"
N = 150            # packets in the pcap: 3 s of 20 ms PCMU frames
HOLD_MS = 5000     # UAC's pause after the ACK (-d): play, then the queries
SIPP_TIMEOUT = 30  # s, each sipp (-timeout, and our wait)


# ---- processes ------------------------------------------------------------

class Kamailio(Daemon):
    """kamailio -DD -E in its own session (it forks children): stopped by
    its main pid, and whatever is left of its process group is killed."""

    def __init__(self, ctx, cfg_text):
        super().__init__(ctx, "kamailio", KAMAILIO_BIN, cfg_text)
        self.rundir = os.path.join(ctx.dir, "kamailio-run")
        os.makedirs(self.rundir, exist_ok=True)
        self.pgid = None

    def args(self, *extra):
        return [self.binary] + list(extra) + ["-f", self.conf,
                                              "-Y", self.rundir,
                                              "-m", "32", "-M", "8"]

    def check_config(self):
        p = subprocess.run(self.args("-c"), capture_output=True, text=True,
                           timeout=30, stdin=subprocess.DEVNULL,
                           cwd=self.ctx.dir)
        return p.returncode, p.stdout + p.stderr

    def start(self):
        self.log = open(self.logpath, "ab")
        self.proc = subprocess.Popen(self.args("-DD", "-E"), stdout=self.log,
                                     stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     cwd=self.ctx.dir,
                                     start_new_session=True)
        self.pgid = self.proc.pid
        self.ctx.owned.append(self)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=10):
        rc, dt = super().stop(sig, timeout)
        if self.pgid is not None:
            try:
                os.killpg(self.pgid, signal.SIGKILL)   # children left over
            except ProcessLookupError:
                pass
            self.pgid = None
        return rc, dt


class Sipp:
    """One sipp in the background, output in <name>.out; the Daemon
    interface Ctx uses (running, stop, tail)."""

    def __init__(self, ctx, name, args, timeout=SIPP_TIMEOUT):
        self.ctx = ctx
        self.name = name
        self.logpath = os.path.join(ctx.dir, name + ".out")
        self.log = open(self.logpath, "wb")
        self.deadline = time.monotonic() + timeout + 10
        self.proc = subprocess.Popen(
            [shutil.which("sipp")] + args + [
                "-timeout", "%ds" % timeout, "-timeout_error", "-nostdin",
                "-trace_msg", "-message_file",
                os.path.join(ctx.dir, name + "-messages.log"),
                "-trace_err", "-error_file",
                os.path.join(ctx.dir, name + "-errors.log")],
            stdout=self.log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=ctx.dir)
        ctx.owned.append(self)

    def running(self):
        return self.proc.poll() is None

    def wait(self):
        """Exit code, or 'timeout(killed)' past the deadline."""
        try:
            rc = self.proc.wait(max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout(killed)"
        self.log.close()
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode, 0

    def tail(self, n=40):
        try:
            with open(self.logpath, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def messages(self):
        return sipp_messages(os.path.join(self.ctx.dir,
                                          self.name + "-messages.log"))


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
        out.append((what.strip(), msg.replace("\r\n", "\n")))
    return out


def first_msg(msgs, direction, start):
    """Text of the first <direction> ("received"/"sent") message whose
    first line starts with <start>, or None."""
    for what, m in msgs:
        if direction in what and m.startswith(start):
            return m
    return None


def sdp_of(msg):
    return Sdp(msg.partition("\n\n")[2]) if msg else None


def header(msg, name):
    for ln in (msg or "").split("\n"):
        k, _, v = ln.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None


def tag_of(value):
    for p in (value or "").split(";")[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "tag":
            return v.strip()
    return None


def udp_bound(port):
    """True once something listens on 127.0.0.1:<port>/udp (read from
    /proc, so a probe cannot race the owner's bind())."""
    want = ":%04X" % port
    with open("/proc/net/udp") as f:
        return any(ln.split()[1].endswith(want) for ln in f.readlines()[1:])


def sipp_media_port():
    """An even port P with P..P+3 free for UDP: sipp binds audio on P,
    video on P+2 (-mp); RTCP may come to P+1. Outside mediad's range
    (20000..30000) and media.Endpoint's (40002..)."""
    for _ in range(500):
        p = random.randrange(31000, 39000, 2)
        socks = []
        try:
            for q in range(p, p + 4):
                so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(so)
                so.bind(("127.0.0.1", q))
            return p
        except OSError:
            continue
        finally:
            for so in socks:
                so.close()
    raise RuntimeError("no free media port for sipp")


def sip_options_ok(port, timeout=0.5):
    """An OPTIONS to the proxy itself is answered 200."""
    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    so.settimeout(timeout)
    try:
        so.bind(("127.0.0.1", 0))
        lp = so.getsockname()[1]
        rnd = os.urandom(6).hex()
        msg = ("OPTIONS sip:127.0.0.1:%d SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <sip:probe@127.0.0.1:%d>;tag=%s\r\n"
               "To: <sip:127.0.0.1:%d>\r\n"
               "Call-ID: probe-%s@127.0.0.1\r\n"
               "CSeq: 1 OPTIONS\r\n"
               "Content-Length: 0\r\n\r\n"
               % (port, lp, rnd, lp, rnd, port, rnd))
        so.sendto(msg.encode(), ("127.0.0.1", port))
        return so.recvfrom(65535)[0].startswith(b"SIP/2.0 200")
    except OSError:
        return False
    finally:
        so.close()


# ---- media ------------------------------------------------------------------

def pcmu_packets(n):
    """<n> RTP packets of a 1 kHz tone, PCMU, 160 samples each."""
    st = RtpStream(0)
    return [st.packet(encode(tone(1000, 160, start=160 * i), 0))
            for i in range(n)]


def ip_checksum(h):
    t = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    t = (t >> 16) + (t & 0xffff)
    t += t >> 16
    return ~t & 0xffff


def write_pcap(path, rtp, interval_us=20000):
    """A libpcap file (Ethernet) of <rtp> as UDP 192.0.2.10:40000 ->
    192.0.2.20:6000, <interval_us> apart: what sipp's play_pcap_audio
    reads (it keeps the RTP and rewrites addresses and ports)."""
    src, dst = socket.inet_aton("192.0.2.10"), socket.inet_aton("192.0.2.20")
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for i, p in enumerate(rtp):
        udp = struct.pack("!HHHH", 40000, 6000, 8 + len(p), 0) + p
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff,
                         0x4000, 64, 17, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
        frame = (b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
                 + b"\x08\x00" + ip + udp)
        us = 1700000000 * 1000000 + i * interval_us
        out.append(struct.pack("<IIII", us // 1000000, us % 1000000,
                               len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))


class FarEnd:
    """The UAS's media address (its SDP names our port): records the RTP
    that arrives and sends each packet back to where it came from (the
    relay), as an echoing phone would."""

    def __init__(self, limit_s=SIPP_TIMEOUT + 30):
        self.ep = Endpoint("far")
        self.port = self.ep.port
        self.got = []
        self.echoed = 0
        self.rtcp = 0
        self.stun = 0
        self._stop = threading.Event()
        self._limit = time.monotonic() + limit_s
        self._th = threading.Thread(target=self._loop, daemon=True)
        self._th.start()

    def _loop(self):
        socks = (self.ep.rtp, self.ep.rtcp)
        while not self._stop.is_set() and time.monotonic() < self._limit:
            rd, _, _ = select.select(socks, [], [], 0.05)
            for so in rd:
                for _ in range(1000):
                    try:
                        d, a = so.recvfrom(65535)
                    except BlockingIOError:
                        break
                    if is_stun(d):
                        self.stun += 1
                    elif so is self.ep.rtcp:
                        self.rtcp += 1
                    else:
                        self.got.append((d, a))
                        try:
                            so.sendto(d, a)
                            self.echoed += 1
                        except OSError:
                            pass

    def count(self):
        return len(self.got)

    def close(self):
        self._stop.set()
        self._th.join(2)
        self.ep.close()


def stats(med):
    r = med.ng("statistics")
    return r.get("statistics") if ng_ok(r) else None


def stat(st, *path):
    for k in path:
        st = (st or {}).get(k)
    return st if isinstance(st, int) else None


def delta(a, b, *path):
    x, y = stat(a, *path), stat(b, *path)
    return None if x is None or y is None else y - x


# ---- checks -----------------------------------------------------------------

def check_sdp(ctx, what, sd, port_min, port_max, not_ports, foreign_origin):
    """The SDP one side got through Kamailio: mediad's address and port."""
    a = sd.audio() if sd else None
    if not ctx.check("%s: has an SDP with an audio m= line" % what,
                     a is not None, sd and sd.text):
        return None
    ctx.check("%s: c= is mediad's address 127.0.0.1" % what,
              a["conn"] == "127.0.0.1", sd.text)
    ctx.check("%s: m= port %d is in mediad's range %d-%d, not the peer's %s"
              % (what, a["port"], port_min, port_max, not_ports),
              port_min <= a["port"] <= port_max
              and a["port"] not in not_ports, sd.text)
    ctx.check("%s: origin replaced (o= ends in 127.0.0.1, no %s)"
              % (what, foreign_origin),
              sd.origin and sd.origin[-1] == "127.0.0.1"
              and foreign_origin not in sd.text, sd.text)
    ctx.check("%s: no ICE attributes (ICE=remove)" % what,
              not sd.has_attr("ice-") and not sd.has_attr("candidate"),
              sd.text)
    ctx.check("%s: PCMU (PT 0) offered" % what, 0 in a["fmts"], sd.text)
    return a


def run(ctx):
    sipp_bin = shutil.which("sipp")
    have_kam = os.access(KAMAILIO_BIN, os.X_OK)
    have_mod = os.path.exists(os.path.join(KAMAILIO_MODULES, "rtpengine.so"))
    ctx.check("sipp installed (Debian package sip-tester)", bool(sipp_bin))
    ctx.check("kamailio installed (%s; Debian package kamailio)"
              % KAMAILIO_BIN, have_kam)
    ctx.check("Kamailio's rtpengine module present (%srtpengine.so)"
              % KAMAILIO_MODULES, have_mod)
    if not (sipp_bin and have_kam and have_mod):
        return

    # ---- mediad ----
    port_min = free_port(even=True)
    port_max = port_min + 1000
    # mediad's default delete_delay (30 s): the call must go at once
    # because Kamailio's rtpengine_delete("delete-delay=0") says so
    med = Mediad(ctx, port_min=port_min, port_max=port_max)
    med.start()
    if not ctx.check("mediad answers NG ping", med.wait_ready()):
        return
    st0 = stats(med)

    # ---- Kamailio ----
    kam_port, uas_port, uac_port = free_port(), free_port(), free_port()
    with open(ctx.path("kamailio.cfg")) as f:
        cfg = (f.read().replace("@LISTEN_PORT@", str(kam_port))
               .replace("@NG_PORT@", str(med.ng_port))
               .replace("@UAS_PORT@", str(uas_port)))
    kam = Kamailio(ctx, cfg)
    rc, out = kam.check_config()
    if not ctx.check("kamailio -c accepts the proxy config", rc == 0,
                     out[-1500:]):
        return
    t0 = time.monotonic()
    kam.start()

    def kam_ready():
        if not kam.running():
            raise RuntimeError("kamailio exited")
        return sip_options_ok(kam_port)
    if not ctx.check("Kamailio runs and answers OPTIONS on 127.0.0.1:%d"
                     % kam_port, wait_until(kam_ready, 15, 0.2)):
        return
    ctx.note("Kamailio ready in %.2f s" % (time.monotonic() - t0))
    st1 = stats(med)
    ctx.note("NG pings mediad got while Kamailio started: %s"
             % delta(st0, st1, "controlstatistics", "totalpingcount"))

    # ---- media: the pcap the UAC plays, the far end ----
    rtp = pcmu_packets(N)
    pcap = os.path.join(ctx.dir, "uac-pcmu.pcap")
    write_pcap(pcap, rtp)
    far = FarEnd()
    uac_mp = sipp_media_port()
    uas_mp = uac_mp
    while abs(uas_mp - uac_mp) < 4:
        uas_mp = sipp_media_port()

    # ---- the call ----
    uas = Sipp(ctx, "uas", [
        "-key", "farport", str(far.port),
        "-sf", ctx.path("uas.xml"), "-t", "u1", "-m", "1",
        "-i", "127.0.0.1", "-p", str(uas_port),
        "-mi", "127.0.0.1", "-mp", str(uas_mp),
        "-cp", str(free_port())])
    if not ctx.check("sipp UAS listens on 127.0.0.1:%d" % uas_port,
                     wait_until(lambda: udp_bound(uas_port) or
                                not uas.running(), 10, 0.05)
                     and uas.running(), uas.tail()):
        far.close()
        return
    t_call = time.monotonic()
    uac = Sipp(ctx, "uac", [
        "-key", "pcap", pcap,
        "-sf", ctx.path("uac.xml"), "127.0.0.1:%d" % kam_port,
        "-s", "kamrtp", "-t", "u1", "-m", "1",
        "-i", "127.0.0.1", "-p", str(uac_port),
        "-mi", "127.0.0.1", "-mp", str(uac_mp),
        "-cp", str(free_port()), "-d", str(HOLD_MS)])

    # during the call: once the far end has the whole pcap (3 s of play),
    # mediad must list one call and count both directions
    wait_until(lambda: far.count() >= N or not uac.running(),
               N * 0.02 + 1.5, 0.05)
    t_play = time.monotonic() - t_call
    time.sleep(0.2)             # the last echoes on their way back
    st_mid = stats(med)
    li = med.ng("list")
    calls = [s(c) for c in (li or {}).get("calls", [])]
    q = med.ng("query", **{"call-id": calls[0]}) if len(calls) == 1 \
        else None
    in_call = uac.running()
    ctx.note("far end had %d/%d packets %.2f s after the UAC started; "
             "UAC still in the call when queried: %s"
             % (far.count(), N, t_play, in_call))

    rc_uac = uac.wait()
    rc_uas = uas.wait()
    t_end = time.monotonic()
    ctx.note("call took %.2f s (UAC exit %s, UAS exit %s)"
             % (t_end - t_call, rc_uac, rc_uas))
    ctx.check("sipp UAC: call completed through Kamailio (exit 0)",
              rc_uac == 0, uac.tail(15))
    ctx.check("sipp UAS: call completed, INVITE's c= matched (exit 0)",
              rc_uas == 0, uas.tail(15))

    # ---- the SDPs each side saw ----
    inv = first_msg(uas.messages(), "received", "INVITE ")
    ok = first_msg(uac.messages(), "received", "SIP/2.0 200")
    if ok and "INVITE" not in (header(ok, "CSeq") or ""):
        ok = None
    a_uas = check_sdp(ctx, "SDP the UAS got (offer via Kamailio)",
                      sdp_of(inv), port_min, port_max, [uac_mp],
                      "192.0.2.10")
    a_uac = check_sdp(ctx, "SDP the UAC got (answer via Kamailio)",
                      sdp_of(ok), port_min, port_max, [far.port],
                      "192.0.2.20")
    if a_uas and a_uac:
        ctx.check("the two relay ports differ (%d toward the UAS, %d "
                  "toward the UAC)" % (a_uas["port"], a_uac["port"]),
                  a_uas["port"] != a_uac["port"])
    callid = header(inv, "Call-ID")
    from_tag = tag_of(header(inv, "From"))
    to_tag = tag_of(header(ok, "To"))

    # ---- the RTP at the far end ----
    got = list(far.got)
    far.close()
    pk = [(rtp_parse(d), a) for d, a in got]
    want = {p["seq"]: p for p in (rtp_parse(x) for x in rtp)}
    ctx.check("far end: all %d RTP packets the UAC played arrived "
              "(got %d)" % (N, len(pk)), len(pk) == N, len(pk))
    bad = [p for p, _ in pk if not p or p["seq"] not in want or any(
        p[k] != want[p["seq"]][k] for k in ("pt", "ts", "ssrc", "payload"))]
    ctx.check("far end: PT/seq/ts/SSRC and the PCMU payload arrive "
              "unchanged", pk and not bad, bad[:2])
    srcs = {a for _, a in pk}
    if a_uas:
        ctx.check("far end: RTP comes from the relay port in the UAS's "
                  "SDP (%d)" % a_uas["port"],
                  srcs == {("127.0.0.1", a_uas["port"])}, srcs)
    ctx.note("far end echoed %d packets back through mediad (STUN %d, "
             "RTCP %d)" % (far.echoed, far.stun, far.rtcp))

    # ---- mediad during the call ----
    ctx.check("during the call mediad lists one call, Kamailio's Call-ID",
              ng_ok(li) and len(calls) == 1 and calls[0] == callid,
              (calls, callid))
    ctx.check("during the call: currentstatistics.sessionsown == 1",
              stat(st_mid, "currentstatistics", "sessionsown") == 1,
              st_mid and st_mid.get("currentstatistics"))
    if ctx.check("query during the call: result ok", ng_ok(q), q):
        tags = sorted((q.get("tags") or {}).keys())
        ctx.check("query: the call's tags are the SIP From/To tags",
                  from_tag in tags and to_tag in tags,
                  (tags, from_tag, to_tag))
        n_from = query_leg_packets(q, from_tag) or 0
        n_to = query_leg_packets(q, to_tag) or 0
        tot = query_total_packets(q) or 0
        ctx.note("query: packets from the UAC (%s) %d, from the UAS side "
                 "(%s) %d, totals.RTP.packets %d"
                 % (from_tag, n_from, to_tag, n_to, tot))
        ctx.check("query: packets counted on both legs (UAC >= %d, echo "
                  ">= %d)" % (N, N), n_from >= N and n_to >= N,
                  (n_from, n_to))

    # ---- mediad after the BYE ----
    def idle():
        st = stats(med)
        return st if stat(st, "currentstatistics", "sessionsown") == 0 \
            else None
    st_end = wait_until(idle, 5, 0.1)
    ctx.check("after the BYE (rtpengine_delete delete-delay=0) mediad "
              "has no session within 5 s (sessionsown == 0)",
              st_end is not None,
              stats(med))
    st_end = st_end or stats(med)
    ctx.note("gone %.2f s after the UAC's exit" % (time.monotonic() - t_end))
    li = med.ng("list")
    ctx.check("after the BYE mediad lists no call",
              ng_ok(li) and not li.get("calls"), li)
    d_man = delta(st0, st_end, "totalstatistics", "managedsessions")
    d_in = delta(st0, st_end, "mediad", "packetsin")
    d_out = delta(st0, st_end, "mediad", "packetsout")
    d_err = delta(st0, st_end, "controlstatistics", "totalerrorcount")
    ctx.note("mediad: managedsessions +%s, packetsin +%s, packetsout +%s, "
             "relayedpackets %s, packetsdropped %s, NG errors +%s"
             % (d_man, d_in, d_out,
                stat(st_end, "totalstatistics", "relayedpackets"),
                stat(st_end, "mediad", "packetsdropped"), d_err))
    ctx.check("statistics: totalstatistics.managedsessions rose by 1",
              d_man == 1, d_man)
    ctx.check("statistics: mediad.packetsin rose by >= %d (both "
              "directions)" % (2 * N), (d_in or 0) >= 2 * N, d_in)
    ctx.check("statistics: mediad.packetsout rose by >= %d" % (2 * N),
              (d_out or 0) >= 2 * N, d_out)
    ctx.check("statistics: no NG request from Kamailio got an error "
              "(controlstatistics.totalerrorcount unchanged)", d_err == 0,
              d_err)

    # ---- both daemons stop cleanly ----
    ctx.check("Kamailio still running after the call", kam.running(),
              kam.tail(20))
    rc, dt = kam.stop()
    ctx.note("kamailio SIGTERM: exit %s in %.2f s" % (rc, dt))
    rc, dt = med.stop()
    ctx.check("mediad stops on SIGTERM with exit 0", rc == 0, rc)

# tests/integration/lib/media.py  real-UDP media helpers for the relay tests
#
# RTP/RTCP packets over real loopback sockets, test SDPs (build + parse),
# G.711 mu-law/A-law (ITU-T G.711 segment algorithm, written here), tone
# generation and a Goertzel check that a tone survived, RFC 4733
# telephone-event payloads, a consumer for mediad's shm event rings
# (layout of common/shm.h), and the choice of relay under test:
# MEDIA_RELAY=rtpengine runs Debian's rtpengine, anything else mediad.
#
# Every wait is bounded by a deadline. `python3 media.py` runs a self-test
# of the codecs and the tone check (no daemon needed). The scenarios:
#   MEDIA_RELAY=rtpengine python3 tests/integration/run.py \
#       tests/integration/media-relay        (also -transcode, -ng-errors,
#   MEDIAD_BIN=.../mediad python3 tests/integration/run.py \
#       tests/integration/media-relay         -timeout)

import math
import mmap
import os
import random
import select
import socket
import struct
import time

import sbctest
from sbctest import s, wait_until

LOCAL = "127.0.0.1"


# ---- relay under test -------------------------------------------------------

def relay_kind():
    k = os.environ.get("MEDIA_RELAY", "mediad").strip().lower()
    return "rtpengine" if k == "rtpengine" else "mediad"


def start_relay(ctx, rtpengine_args=(), rtpengine_timeout=None, **mediad_keys):
    """Start the relay chosen by MEDIA_RELAY and wait for its NG ping.
    Returns the relay (with .kind) or None when it did not come up."""
    if relay_kind() == "rtpengine":
        import rtpengine
        if not rtpengine.available():
            ctx.check("rtpengine installed (%s)" % rtpengine.RTPENGINE_BIN,
                      False)
            return None
        r = rtpengine.RtpEngine(ctx, timeout=rtpengine_timeout,
                                extra=rtpengine_args)
    else:
        r = sbctest.Mediad(ctx, **mediad_keys)
        r.kind = "mediad"
    ctx.note("relay under test: %s" % (r.kind if r.kind == "rtpengine"
                                        else "mediad " + sbctest.MEDIAD_BIN))
    r.start()
    if not ctx.check("%s answers NG ping" % r.kind, r.wait_ready()):
        return None
    return r


def ng_ok(r):
    return isinstance(r, dict) and s(r.get("result")) == "ok"


def ng_error(r):
    """True when <r> is an NG error reply carrying a non-empty reason."""
    return (isinstance(r, dict) and s(r.get("result")) == "error"
            and bool(r.get("error-reason")))


# Kamailio's rtpengine_manage("replace-origin replace-session-connection
# ICE=remove") as it goes on the wire
KAMAILIO_FLAGS = {
    "replace": ["origin", "session-connection"],
    "ICE": "remove",
    "received-from": ["IP4", LOCAL],
}


def ng_offer(relay, callid, from_tag, sdp, to_tag=None, **extra):
    kv = {"call-id": callid, "from-tag": from_tag, "sdp": sdp,
          "via-branch": "z9hG4bK" + callid[-8:]}
    kv.update(KAMAILIO_FLAGS)
    if to_tag:
        kv["to-tag"] = to_tag
    kv.update(extra)
    return relay.ng("offer", **kv)


def ng_answer(relay, callid, from_tag, to_tag, sdp, **extra):
    kv = {"call-id": callid, "from-tag": from_tag, "to-tag": to_tag,
          "sdp": sdp, "via-branch": "z9hG4bK" + callid[-8:]}
    kv.update(KAMAILIO_FLAGS)
    kv.update(extra)
    return relay.ng("answer", **kv)


def query_leg_packets(reply, tag):
    """RTP packets counted for the stream(s) of <tag> in a query reply
    (rtpengine: tags/<tag>/medias[]/streams[]/stats/packets), or None."""
    try:
        t = reply["tags"][tag]          # bdecode() keys are str
    except (KeyError, TypeError):
        return None
    n = 0
    found = False
    for m in t.get("medias", []) or []:
        for st in m.get("streams", []) or []:
            p = (st.get("stats") or {}).get("packets")
            if isinstance(p, int):
                n += p
                found = True
    return n if found else None


def query_total_packets(reply):
    """totals/RTP/packets of a query reply (what Kamailio's $rtpstat
    reads), or None."""
    try:
        v = reply["totals"]["RTP"]["packets"]
    except (KeyError, TypeError):
        return None
    return v if isinstance(v, int) else None


# ---- UDP endpoints ----------------------------------------------------------

def _bind_pair():
    """Two UDP sockets on LOCAL: an even RTP port and RTCP = RTP + 1."""
    for _ in range(500):
        # above the relays' ranges (sbctest draws them from 20000..30000)
        port = random.randrange(40002, 59998, 2)
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            a.bind((LOCAL, port))
            b.bind((LOCAL, port + 1))
        except OSError:
            a.close()
            b.close()
            continue
        return a, b
    raise RuntimeError("no free RTP/RTCP port pair")


def udp_bindable(port):
    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        so.bind((LOCAL, port))
        return True
    except OSError:
        return False
    finally:
        so.close()


def is_stun(d):
    return len(d) >= 20 and d[0] < 4 and d[4:8] == b"\x21\x12\xa4\x42"


class Endpoint:
    """One side of a call: an RTP socket on an even port, RTCP on +1."""

    def __init__(self, name):
        self.name = name
        self.rtp, self.rtcp = _bind_pair()
        for so in (self.rtp, self.rtcp):
            so.setblocking(False)
            so.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.port = self.rtp.getsockname()[1]
        self.rtcp_port = self.port + 1
        self.stun = 0       # STUN checks dropped by recv()

    def close(self):
        self.rtp.close()
        self.rtcp.close()

    def flush(self):
        for so in (self.rtp, self.rtcp):
            for _ in range(10000):
                try:
                    so.recvfrom(65535)
                except BlockingIOError:
                    break

    def recv(self, which="rtp", want=None, timeout=2.0, idle=None,
             stun=False):
        """Datagrams [(bytes, (ip, port))] until <want> arrived, <timeout>
        passed, or (if given) nothing came for <idle> seconds. STUN
        (RFC 7983: first byte 0..3, magic cookie) is counted in .stun and
        dropped unless <stun>: rtpengine runs ICE checks toward a peer
        whose SDP had candidates, even with ICE=remove toward the other."""
        so = self.rtp if which == "rtp" else self.rtcp
        out = []
        end = time.monotonic() + timeout
        last = time.monotonic()
        while want is None or len(out) < want:
            now = time.monotonic()
            left = end - now
            if idle is not None:
                left = min(left, last + idle - now)
            if left <= 0:
                break
            rd, _, _ = select.select([so], [], [], left)
            if not rd:
                continue
            for _ in range(1000):
                try:
                    d, a = so.recvfrom(65535)
                except BlockingIOError:
                    break
                if not stun and is_stun(d):
                    self.stun += 1
                    continue
                out.append((d, a))
            last = time.monotonic()
        return out


# ---- RTP / RTCP -------------------------------------------------------------

def rtp_build(pt, seq, ts, ssrc, payload, marker=False):
    return struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | (pt & 0x7f),
                       seq & 0xffff, ts & 0xffffffff, ssrc) + bytes(payload)


def rtp_parse(data):
    """dict(pt, marker, seq, ts, ssrc, payload) or None if not RTP v2."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    b0, b1, seq, ts, ssrc = struct.unpack_from("!BBHII", data)
    off = 12 + 4 * (b0 & 0x0f)
    if b0 & 0x10:
        if len(data) < off + 4:
            return None
        off += 4 + 4 * struct.unpack_from("!H", data, off + 2)[0]
    end = len(data)
    if b0 & 0x20 and end > off:
        end -= data[-1]
    if off > end:
        return None
    return {"pt": b1 & 0x7f, "marker": bool(b1 & 0x80), "seq": seq,
            "ts": ts, "ssrc": ssrc, "payload": data[off:end]}


class RtpStream:
    """Sequence/timestamp state of one outgoing RTP stream."""

    def __init__(self, pt, ssrc=None, seq=None, ts=None, samples=160):
        self.pt = pt
        self.ssrc = ssrc if ssrc is not None else random.getrandbits(32)
        self.seq = seq if seq is not None else random.getrandbits(16)
        self.ts = ts if ts is not None else random.getrandbits(32)
        self.samples = samples
        self.first = True

    def packet(self, payload, pt=None, marker=None, advance=True, ts=None):
        m = self.first if marker is None else marker
        p = rtp_build(self.pt if pt is None else pt, self.seq,
                      self.ts if ts is None else ts, self.ssrc, payload, m)
        self.first = False
        self.seq = (self.seq + 1) & 0xffff
        if advance:
            self.ts = (self.ts + self.samples) & 0xffffffff
        return p


def rtcp_rr(ssrc, src_ssrc, highest_seq=0, cname="test@127.0.0.1"):
    """Compound RTCP: a receiver report with one block + SDES CNAME
    (RFC 3550 6.4.2, 6.5)."""
    rr = struct.pack("!BBHI", 0x81, 201, 7, ssrc)
    rr += struct.pack("!IIIIII", src_ssrc, 0, highest_seq & 0xffffffff,
                      3, 0, 0)
    c = cname.encode()
    chunk = struct.pack("!IBB", ssrc, 1, len(c)) + c + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    sdes = struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk
    return rr + sdes


def rtcp_types(data):
    """Packet types of a compound RTCP datagram, [] if not RTCP."""
    out = []
    off = 0
    for _ in range(32):
        if off + 4 > len(data):
            break
        b0, pt, ln = struct.unpack_from("!BBH", data, off)
        if b0 >> 6 != 2 or not 192 <= pt <= 223:
            return []
        out.append(pt)
        off += 4 * (ln + 1)
    return out


def dtmf_payload(event, end=False, volume=10, duration=160):
    """RFC 4733 section 2.3 named-event payload."""
    return struct.pack("!BBH", event, (0x80 if end else 0) | (volume & 0x3f),
                       duration & 0xffff)


def dtmf_parse(payload):
    if len(payload) < 4:
        return None
    ev, b, dur = struct.unpack_from("!BBH", payload)
    return {"event": ev, "end": bool(b & 0x80), "volume": b & 0x3f,
            "duration": dur}


def send_paced(items, interval=0.02):
    """Send [(sock, data, addr)] groups: items is a list of lists; each
    inner list goes out at once, one group per <interval>."""
    t0 = time.monotonic()
    for i, group in enumerate(items):
        for so, data, addr in group:
            so.sendto(data, addr)
        delay = t0 + (i + 1) * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)


# ---- SDP --------------------------------------------------------------------

RTPMAP = {0: "PCMU/8000", 8: "PCMA/8000", 101: "telephone-event/8000"}


def sdp_build(port, pts=(0, 101), ip=LOCAL, origin_ip=None, sess_id=None,
              version=1, direction="sendrecv", ice=False, ptime=20,
              extra=()):
    """A SIP phone's audio offer/answer, CRLF line ends."""
    sess_id = sess_id or random.randrange(10 ** 6, 10 ** 9)
    lines = [
        "v=0",
        "o=- %d %d IN IP4 %s" % (sess_id, version, origin_ip or ip),
        "s=-",
        "c=IN IP4 %s" % ip,
        "t=0 0",
        "m=audio %d RTP/AVP %s" % (port, " ".join(str(p) for p in pts)),
    ]
    for pt in pts:
        lines.append("a=rtpmap:%d %s" % (pt, RTPMAP[pt]))
        if RTPMAP[pt].startswith("telephone-event"):
            lines.append("a=fmtp:%d 0-16" % pt)
    if ptime:
        lines.append("a=ptime:%d" % ptime)
    if ice:
        lines += [
            "a=ice-ufrag:Ab12",
            "a=ice-pwd:0123456789abcdefghijkl",
            "a=candidate:1 1 UDP 2130706431 %s %d typ host" % (ip, port),
            "a=candidate:1 2 UDP 2130706430 %s %d typ host" % (ip, port + 1),
        ]
    lines += list(extra)
    if direction:
        lines.append("a=" + direction)
    return "\r\n".join(lines) + "\r\n"


class Sdp:
    """The parts of an SDP body the tests look at."""

    def __init__(self, text):
        if isinstance(text, (bytes, bytearray)):
            text = text.decode("utf-8", "replace")
        self.text = text
        self.lines = [ln for ln in text.replace("\r\n", "\n").split("\n")
                      if ln]
        self.origin = None
        self.conn = None
        self.attrs = []
        self.media = []
        cur = None
        for ln in self.lines:
            k, _, v = ln.partition("=")
            if k == "o":
                self.origin = v.split()
            elif k == "c":
                addr = v.split()[-1].split("/")[0]
                if cur is None:
                    self.conn = addr
                else:
                    cur["conn"] = addr
            elif k == "m":
                f = v.split()
                cur = {"type": f[0], "port": int(f[1].split("/")[0]),
                       "proto": f[2],
                       "fmts": [int(x) for x in f[3:] if x.isdigit()],
                       "conn": None, "attrs": [], "rtpmap": {}}
                self.media.append(cur)
            elif k == "a":
                (self.attrs if cur is None else cur["attrs"]).append(v)
                if cur is not None and v.startswith("rtpmap:"):
                    pt, _, enc = v[7:].partition(" ")
                    cur["rtpmap"][int(pt)] = enc.strip()
        for m in self.media:
            if m["conn"] is None:
                m["conn"] = self.conn
            m["rtcp_port"] = m["port"] + 1
            for a in m["attrs"]:
                if a.startswith("rtcp:"):
                    m["rtcp_port"] = int(a[5:].split()[0])
            m["direction"] = "sendrecv"
            for a in self.attrs + m["attrs"]:
                if a in ("sendrecv", "sendonly", "recvonly", "inactive"):
                    m["direction"] = a

    def audio(self):
        for m in self.media:
            if m["type"] == "audio":
                return m
        return None

    def has_attr(self, prefix):
        return any(a.startswith(prefix) for a in self.attrs) or any(
            a.startswith(prefix) for m in self.media for a in m["attrs"])

    def codec(self, pt):
        """rtpmap of <pt>, static payload types filled in."""
        a = self.audio()
        return (a["rtpmap"].get(pt) if a else None) or RTPMAP.get(pt)


# ---- G.711 (ITU-T G.711: 8-segment companding) ------------------------------

def lin2ulaw(x):
    """16-bit linear sample to a mu-law byte (14-bit magnitude, bias 33,
    all bits inverted)."""
    x >>= 2
    if x < 0:
        x = -x
        mask = 0x7f
    else:
        mask = 0xff
    if x > 8159:
        x = 8159
    x += 0x21                       # bias: segment ends fall on 2^n - 1
    seg = 0
    while seg < 8 and x > (0x3f << seg | ((1 << seg) - 1)):
        seg += 1
    if seg > 7:
        return 0x7f ^ mask
    return ((seg << 4) | ((x >> (seg + 1)) & 0x0f)) ^ mask


def _ulaw2lin(u):
    u = ~u & 0xff
    seg = (u >> 4) & 7
    x = ((((u & 0x0f) << 3) + 0x84) << seg) - 0x84
    return -x if u & 0x80 else x


def lin2alaw(x):
    """16-bit linear sample to an A-law byte (even bits inverted)."""
    x >>= 3                          # 13-bit magnitude range
    if x >= 0:
        mask = 0xd5
    else:
        mask = 0x55
        x = -x - 1
    if x > 0xfff:
        return 0x7f ^ mask
    seg = 0
    while seg < 7 and x > (0x20 << seg) - 1:
        seg += 1
    if seg < 2:
        mant = (x >> 1) & 0x0f
    else:
        mant = (x >> seg) & 0x0f
    return ((seg << 4) | mant) ^ mask


def _alaw2lin(a):
    a ^= 0x55
    seg = (a >> 4) & 7
    t = (a & 0x0f) << 4
    if seg == 0:
        t += 8
    else:
        t = (t + 0x108) << (seg - 1)
    return t if a & 0x80 else -t


ULAW_DEC = [_ulaw2lin(i) for i in range(256)]
ALAW_DEC = [_alaw2lin(i) for i in range(256)]


def encode(samples, law):
    f = lin2ulaw if law in ("PCMU", 0) else lin2alaw
    return bytes(f(max(-32768, min(32767, int(x)))) for x in samples)


def decode(data, law):
    t = ULAW_DEC if law in ("PCMU", 0) else ALAW_DEC
    return [t[b] for b in data]


# ---- tones ------------------------------------------------------------------

def tone(freq, n, amp=10000.0, start=0, rate=8000):
    """n samples of a sine, phase-continuous from sample index <start>."""
    w = 2 * math.pi * freq / rate
    return [amp * math.sin(w * (start + i)) for i in range(n)]


def goertzel(samples, freq, rate=8000):
    """(tone energy, total energy, amplitude) of <freq> in <samples>;
    exact when the block holds a whole number of periods."""
    n = len(samples)
    if not n:
        return 0.0, 0.0, 0.0
    k = round(n * freq / rate)
    w = 2 * math.pi * k / n
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in samples:
        s0 = x + c * s1 - s2
        s2 = s1
        s1 = s0
    mag2 = s1 * s1 + s2 * s2 - c * s1 * s2
    tone_e = 2 * mag2 / n
    total = sum(x * x for x in samples)
    return tone_e, total, 2 * math.sqrt(max(mag2, 0.0)) / n


def tone_snr_db(samples, freq, rate=8000):
    """Energy at <freq> over everything else, in dB (99 if clean)."""
    t, tot, _ = goertzel(samples, freq, rate)
    rest = tot - t
    if t <= 0:
        return -99.0
    if rest <= t * 1e-10:
        return 99.0
    return 10 * math.log10(t / rest)


def frame_tone_stats(payloads, law, freq=1000, rate=8000):
    """Per-frame (snr dB, amplitude) of decoded G.711 payloads."""
    out = []
    for p in payloads:
        x = decode(p, law)
        if len(x) < 40:
            continue
        _, _, amp = goertzel(x, freq, rate)
        out.append((tone_snr_db(x, freq, rate), amp))
    return out


def median(v):
    v = sorted(v)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


# ---- mediad's shm event rings (common/shm.h) --------------------------------

SHM_MAGIC = 0x314d48534342534e
SHM_VERSION = 1
SHM_EV_NONE, SHM_EV_DTMF, SHM_EV_MEDIA_TIMEOUT, SHM_EV_SSRC_CHANGE, \
    SHM_EV_CALL_STATS, SHM_EV_CFG_DONE, SHM_EV_MAX = range(7)

# struct shm_hdr field offsets (x86-64 / any LP64 ABI)
_H_MAGIC, _H_VERSION, _H_HDR_SIZE, _H_TOTAL, _H_PID, _H_GEN = 0, 8, 12, 16, \
    24, 28
_H_NWORKERS, _H_NSESSIONS, _H_NRINGS, _H_SLOTS, _H_SLOT_SIZE = 40, 44, 48, \
    52, 56
_H_SESSIONS_OFF, _H_RINGS_OFF, _H_STRIDE, _H_READY = 72, 80, 88, 104
# struct shm_session (192 bytes): state, gen, callid[96], packets[2],
# bytes[2], lost[2], jitter_us[2], created_ms
_S_SIZE, _S_STATE, _S_CALLID, _S_PACKETS, _S_BYTES = 192, 0, 8, 104, 120
SHM_SESS_ACTIVE = 1
_H_SIZE = 112
# struct shm_ring: head, tail, nslots each on its own 64-byte line
_R_HEAD, _R_TAIL, _R_NSLOTS, _R_SLOT_SIZE, _R_DROPPED, _R_BAD, _R_SLOTS = \
    0, 64, 128, 132, 136, 144, 192
_REC = struct.Struct("<HHI")         # struct shm_rec: type, len, seq


class ShmRings:
    """A consumer of the segment's event rings, as sbc's shmc would be:
    it copies a record out, then advances the ring's tail (release
    order is implied by x86's store ordering and the aligned 4-byte
    store). Only one consumer may run: do not start sbc alongside."""

    def __init__(self, name):
        self.path = "/dev/shm" + name
        fd = os.open(self.path, os.O_RDWR)
        try:
            size = os.fstat(fd).st_size
            if size < _H_SIZE:
                raise ValueError("segment too small")
            self.mm = mmap.mmap(fd, size, mmap.MAP_SHARED,
                                mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self.size = size
        m = self.mm
        if self._u64(_H_MAGIC) != SHM_MAGIC:
            raise ValueError("bad magic")
        if self._u32(_H_VERSION) != SHM_VERSION:
            raise ValueError("version %d" % self._u32(_H_VERSION))
        if self._u32(_H_READY) != 1:
            raise ValueError("not ready")
        if self._u64(_H_TOTAL) != size or self._u32(_H_HDR_SIZE) != _H_SIZE:
            raise ValueError("size mismatch")
        self.pid = struct.unpack_from("<i", m, _H_PID)[0]
        self.generation = self._u32(_H_GEN)
        self.nworkers = self._u32(_H_NWORKERS)
        self.nrings = self._u32(_H_NRINGS)
        self.ring_slots = self._u32(_H_SLOTS)
        self.slot_size = self._u32(_H_SLOT_SIZE)
        self.nsessions = self._u32(_H_NSESSIONS)
        self.sessions_off = self._u64(_H_SESSIONS_OFF)
        if self.sessions_off + self.nsessions * _S_SIZE > size:
            raise ValueError("sessions outside segment")
        self.rings_off = self._u64(_H_RINGS_OFF)
        self.stride = self._u64(_H_STRIDE)
        if self.rings_off % 64 or self.stride % 64 or \
                self.rings_off + self.nrings * self.stride > size:
            raise ValueError("rings outside segment")

    def close(self):
        self.mm.close()

    def _u32(self, off):
        return struct.unpack_from("<I", self.mm, off)[0]

    def _u64(self, off):
        return struct.unpack_from("<Q", self.mm, off)[0]

    def ring_off(self, i):
        return self.rings_off + i * self.stride

    def count(self, i):
        r = self.ring_off(i)
        return (self._u32(r + _R_HEAD) - self._u32(r + _R_TAIL)) & 0xffffffff

    def dropped(self, i):
        return self._u64(self.ring_off(i) + _R_DROPPED)

    def sessions(self):
        """Active session slots: [dict(slot, callid, packets, bytes)]."""
        out = []
        for i in range(self.nsessions):
            o = self.sessions_off + i * _S_SIZE
            if self._u32(o + _S_STATE) != SHM_SESS_ACTIVE:
                continue
            cid = bytes(self.mm[o + _S_CALLID:o + _S_CALLID + 96])
            out.append({
                "slot": i,
                "callid": cid.split(b"\0", 1)[0].decode("utf-8", "replace"),
                "packets": struct.unpack_from("<QQ", self.mm,
                                              o + _S_PACKETS),
                "bytes": struct.unpack_from("<QQ", self.mm, o + _S_BYTES),
            })
        return out

    def pop(self, i):
        """Oldest record of ring <i> as (type, seq, payload bytes), or
        None when empty. A malformed record is skipped and returned with
        type None, as shmring_pop() counts it bad."""
        r = self.ring_off(i)
        nslots = self._u32(r + _R_NSLOTS)
        slot_size = self._u32(r + _R_SLOT_SIZE)
        if not nslots or nslots & (nslots - 1) or slot_size < 16:
            raise ValueError("ring %d geometry %d x %d" % (i, nslots,
                                                             slot_size))
        tail = self._u32(r + _R_TAIL)
        head = self._u32(r + _R_HEAD)
        if head == tail:
            return None
        if (head - tail) & 0xffffffff > nslots:
            struct.pack_into("<I", self.mm, r + _R_TAIL, head)
            return (None, tail, b"")
        slot = r + _R_SLOTS + (tail & (nslots - 1)) * slot_size
        typ, ln, seq = _REC.unpack_from(self.mm, slot)
        if ln > slot_size - _REC.size or typ >= SHM_EV_MAX:
            rec = (None, seq, b"")
        else:
            rec = (typ, seq, bytes(self.mm[slot + 8:slot + 8 + ln]))
        struct.pack_into("<I", self.mm, r + _R_TAIL, (tail + 1) & 0xffffffff)
        return rec

    def pop_all(self, limit=100000):
        """Every waiting record of every ring: [(ring, type, seq, payload)]."""
        out = []
        for i in range(self.nrings):
            for _ in range(limit):
                rec = self.pop(i)
                if rec is None:
                    break
                out.append((i,) + rec)
        return out


def msg_str(s_):
    """How msg_add_str() writes a string: u16 little-endian length + bytes."""
    b = s_.encode() if isinstance(s_, str) else s_
    return struct.pack("<H", len(b)) + b


def msg_get_str(payload, off=0):
    """(string, next offset) read as msg_get_str() would, or (None, off)."""
    if off + 2 > len(payload):
        return None, off
    n = struct.unpack_from("<H", payload, off)[0]
    if off + 2 + n > len(payload):
        return None, off
    return payload[off + 2:off + 2 + n], off + 2 + n


def shm_open_rings(name, timeout=5):
    """ShmRings for /dev/shm<name> once the producer marked it ready."""
    def op():
        return ShmRings(name)
    return wait_until(op, timeout, 0.1)


# ---- self-test --------------------------------------------------------------

def _selftest():
    ok = True
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import audioop
    except ImportError:
        audioop = None
    if audioop:
        for x in range(-32768, 32768, 7):
            b = struct.pack("<h", x)
            if audioop.lin2ulaw(b, 2)[0] != lin2ulaw(x):
                print("ulaw enc differs at", x)
                ok = False
                break
            if audioop.lin2alaw(b, 2)[0] != lin2alaw(x):
                print("alaw enc differs at", x, audioop.lin2alaw(b, 2)[0],
                      lin2alaw(x))
                ok = False
                break
        for i in range(256):
            if struct.unpack("<h", audioop.ulaw2lin(bytes([i]), 2))[0] != \
                    ULAW_DEC[i] or struct.unpack(
                        "<h", audioop.alaw2lin(bytes([i]), 2))[0] != \
                    ALAW_DEC[i]:
                print("decode differs at", i)
                ok = False
                break
    for law in ("PCMU", "PCMA"):
        x = tone(1000, 160, 10000)
        y = decode(encode(x, law), law)
        snr = tone_snr_db(y, 1000)
        amp = goertzel(y, 1000)[2]
        print("%s 1 kHz round trip: %.1f dB, amplitude %.0f" % (law, snr,
                                                                amp))
        ok = ok and snr > 30 and abs(amp - 10000) < 300
    # the check discriminates: mu-law bytes read as A-law are not a tone
    y = decode(encode(tone(1000, 160, 10000), "PCMU"), "PCMA")
    print("PCMU bytes decoded as PCMA: %.1f dB" % tone_snr_db(y, 1000))
    ok = ok and tone_snr_db(y, 1000) < 10
    print("selftest", "ok" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    import sys
    sys.exit(0 if _selftest() else 1)

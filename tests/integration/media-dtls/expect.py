# tests/integration/media-dtls/expect.py  see README.md in this directory
import hashlib
import hmac
import os
import select
import socket
import struct
import subprocess
import time
import zlib

from media import (Endpoint, RtpStream, Sdp, decode, encode, ng_answer,
                   ng_offer, ng_ok, rtp_parse, sdp_build, start_relay, tone,
                   tone_snr_db)
from sbctest import MEDIAD_BIN, s

N = 50
PEER_BIN = os.environ.get("DTLSPEER_BIN") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(MEDIAD_BIN))), "tools",
    "dtlspeer")
BROWSER_UFRAG = "Qx7f"
BROWSER_PWD = "b1RowSeRpAsSwOrD0123456"


# ---- the browser-like peer ---------------------------------------------------

class Peer:
    """tools/dtlspeer, driven line by line."""

    def __init__(self):
        self.p = subprocess.Popen([PEER_BIN], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        self.buf = b""
        f = self.line(5).split()
        self.port, self.fp = int(f[1]), f[2]

    def line(self, timeout=5.0):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                return ""
            rd, _, _ = select.select([self.p.stdout], [], [], left)
            if rd:
                d = os.read(self.p.stdout.fileno(), 65536)
                if not d:
                    return ""
                self.buf += d
        ln, _, self.buf = self.buf.partition(b"\n")
        return ln.decode()

    def cmd(self, text, reply=True, timeout=5.0):
        self.p.stdin.write((text + "\n").encode())
        self.p.stdin.flush()
        return self.line(timeout) if reply else None

    def recv(self, n, ms):
        self.cmd("recv %d %d" % (n, ms), reply=False)
        out = []
        while True:
            ln = self.line(ms / 1000.0 * (n + 2) + 5)
            if not ln or ln.startswith("done"):
                return out
            out.append(ln)

    def close(self):
        try:
            self.cmd("quit", reply=False)
            self.p.wait(5)
        except Exception:
            self.p.kill()


# ---- SDP ---------------------------------------------------------------------

def chrome_offer(port, fp, pcma=True, setup="actpass"):
    """What Chrome offers (audio only), trimmed to what matters."""
    pts = [111, 63, 9, 0] + ([8] if pcma else []) + [13, 110, 126]
    lines = [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=extmap-allow-mixed",
        "a=msid-semantic: WMS 5dbe0b49-9e2e-4a79-a5a1-0e9d1a6c0e4f",
        "m=audio %d UDP/TLS/RTP/SAVPF %s" % (port, " ".join(map(str, pts))),
        "c=IN IP4 127.0.0.1",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:2442328011 1 udp 2122260223 127.0.0.1 %d typ host "
        "generation 0 network-id 1" % port,
        "a=candidate:3621337307 1 tcp 1518280447 127.0.0.1 9 typ host "
        "tcptype active generation 0 network-id 1",
        "a=ice-ufrag:" + BROWSER_UFRAG,
        "a=ice-pwd:" + BROWSER_PWD,
        "a=ice-options:trickle",
        "a=fingerprint:sha-256 " + fp,
        "a=setup:" + setup,
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:5dbe0b49-9e2e-4a79-a5a1-0e9d1a6c0e4f "
        "2a1b1c4e-6a55-4a8f-9a0c-3e6a1b3a3d11",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=rtcp-fb:111 transport-cc",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=rtpmap:63 red/48000/2",
        "a=fmtp:63 111/111",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
    ] + (["a=rtpmap:8 PCMA/8000"] if pcma else []) + [
        "a=rtpmap:13 CN/8000",
        "a=rtpmap:110 telephone-event/48000",
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:3735928559 cname:7pR0bWq1yF3xQm2K",
        "a=ssrc:3735928559 msid:5dbe0b49-9e2e-4a79-a5a1-0e9d1a6c0e4f "
        "2a1b1c4e-6a55-4a8f-9a0c-3e6a1b3a3d11",
    ]
    return "\r\n".join(lines) + "\r\n"


def chrome_answer(port, fp, pt=0, setup="active"):
    enc = {0: "PCMU/8000", 8: "PCMA/8000"}[pt]
    lines = [
        "v=0",
        "o=- 7216193017389925716 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=msid-semantic: WMS",
        "m=audio %d UDP/TLS/RTP/SAVPF %d 126" % (port, pt),
        "c=IN IP4 127.0.0.1",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:2442328011 1 udp 2122260223 127.0.0.1 %d typ host "
        "generation 0" % port,
        "a=ice-ufrag:" + BROWSER_UFRAG,
        "a=ice-pwd:" + BROWSER_PWD,
        "a=fingerprint:sha-256 " + fp,
        "a=setup:" + setup,
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:%d %s" % (pt, enc),
        "a=rtpmap:126 telephone-event/8000",
        "a=ssrc:12345678 cname:answererCname1234",
    ]
    return "\r\n".join(lines) + "\r\n"


def attr(m, name):
    """Values of a=<name>: in media dict <m> ("" for a flag)."""
    out = []
    for a in m["attrs"]:
        k, sep, v = a.partition(":")
        if k == name:
            out.append(v if sep else "")
    return out


def session_attr(sdp, name):
    return [a.partition(":")[2] for a in sdp.attrs
            if a.partition(":")[0] == name]


def check_webrtc_sdp(ctx, what, text, port, setup):
    sdp = Sdp(text)
    m = sdp.audio()
    ok = ctx.check("%s: UDP/TLS/RTP/SAVPF on port %d" % (what, port),
                   m and m["proto"] == "UDP/TLS/RTP/SAVPF" and
                   m["port"] == port, m)
    if not ok:
        return None
    ctx.check("%s: a=ice-lite at session level" % what,
              "ice-lite" in sdp.attrs, sdp.attrs)
    uf, pw = attr(m, "ice-ufrag"), attr(m, "ice-pwd")
    ctx.check("%s: one a=ice-ufrag, one a=ice-pwd (>= 22 chars)" % what,
              len(uf) == 1 and len(pw) == 1 and len(pw[0]) >= 22, (uf, pw))
    cands = attr(m, "candidate")
    ctx.check("%s: one host candidate, component 1, 127.0.0.1:%d" %
              (what, port), len(cands) == 1 and cands[0].split()[1:] ==
              ["1", "UDP", "2130706431", "127.0.0.1", str(port), "typ",
               "host"], cands)
    fps = attr(m, "fingerprint")
    ctx.check("%s: a=fingerprint sha-256 (32 bytes)" % what,
              len(fps) == 1 and fps[0].startswith("sha-256 ") and
              len(fps[0].split()[1].split(":")) == 32, fps)
    ctx.check("%s: a=setup:%s" % (what, setup),
              attr(m, "setup") == [setup], attr(m, "setup"))
    ctx.check("%s: a=rtcp-mux" % what, attr(m, "rtcp-mux") == [""],
              m["attrs"])
    ctx.check("%s: a=mid:0 and a=group:BUNDLE 0" % what,
              attr(m, "mid") == ["0"] and
              session_attr(sdp, "group") == ["BUNDLE 0"],
              (attr(m, "mid"), session_attr(sdp, "group")))
    ctx.check("%s: no a=crypto" % what, not attr(m, "crypto"), m)
    return {"ufrag": uf[0] if uf else "", "pwd": pw[0] if pw else "",
            "fp": fps[0].split()[1] if fps else "", "m": m}


def check_plain_sdp(ctx, what, text):
    sdp = Sdp(text)
    m = sdp.audio()
    if not ctx.check("%s: RTP/AVP audio" % what,
                     m and m["proto"] == "RTP/AVP", m):
        return None
    bad = [a for a in sdp.attrs + m["attrs"] if a.split(":")[0] in (
        "ice-lite", "ice-ufrag", "ice-pwd", "candidate", "fingerprint",
        "setup", "crypto", "ice-options")]
    ctx.check("%s: no ICE, DTLS or SDES attributes" % what, not bad, bad)
    ctx.check("%s: no a=group:BUNDLE" % what,
              not [g for g in session_attr(sdp, "group")
                   if g.startswith("BUNDLE")], sdp.attrs)
    return m


# ---- STUN, written here from RFC 5389 (independent of mediad's) -----------

def stun_req(user, pwd, tid, usecand=False, bad_mi=False):
    def at(t, v):
        return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)
    body = at(0x0006, user.encode()) + at(0x0024, struct.pack(
        "!I", 1853824767)) + at(0x802a, os.urandom(8))
    if usecand:
        body += at(0x0025, b"")

    def hdr(n):
        return struct.pack("!HHI", 1, n, 0x2112a442) + tid
    mi = hmac.new(pwd.encode(), hdr(len(body) + 24) + body,
                  hashlib.sha1).digest()
    if bad_mi:
        mi = bytes([mi[0] ^ 1]) + mi[1:]
    body += at(0x0008, mi)
    crc = (zlib.crc32(hdr(len(body) + 8) + body) ^ 0x5354554e) & 0xffffffff
    body += at(0x8028, struct.pack("!I", crc))
    return hdr(len(body)) + body


def stun_parse(d, pwd):
    """(type, {attr: value}, mi_ok, fp_ok) of response <d>."""
    typ, ln, cookie = struct.unpack("!HHI", d[:8])
    attrs, off, mi_ok, fp_ok = {}, 20, None, None
    while off + 4 <= len(d):
        t, al = struct.unpack("!HH", d[off:off + 4])
        v = d[off + 4:off + 4 + al]
        if t == 0x0008:
            h = d[:2] + struct.pack("!H", off + 24 - 20) + d[4:off]
            mi_ok = hmac.compare_digest(
                hmac.new(pwd.encode(), h, hashlib.sha1).digest(), v)
        if t == 0x8028:
            h = d[:2] + struct.pack("!H", off + 8 - 20) + d[4:off]
            fp_ok = (zlib.crc32(h) ^ 0x5354554e) & 0xffffffff == \
                struct.unpack("!I", v)[0]
        attrs[t] = v
        off += 4 + al + (-al % 4)
    return typ, attrs, mi_ok, fp_ok


def xor_addr(v):
    port = struct.unpack("!H", v[2:4])[0] ^ 0x2112
    ip = bytes(a ^ b for a, b in zip(v[4:8], struct.pack("!I", 0x2112a442)))
    return socket.inet_ntoa(ip), port


def python_stun(ctx, port, creds):
    """Checks from a socket of our own, after the peer's nomination."""
    so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    so.bind(("127.0.0.1", 0))
    so.settimeout(1.0)
    user = "%s:%s" % (creds["ufrag"], BROWSER_UFRAG)

    def ask(req):
        so.sendto(req, ("127.0.0.1", port))
        try:
            return so.recv(2048)
        except socket.timeout:
            return None

    tid = os.urandom(12)
    d = ask(stun_req(user, creds["pwd"], tid))
    ok = d and len(d) >= 20 and d[8:20] == tid
    if ctx.check("ICE: a valid check gets an answer", ok, d):
        typ, at, mi_ok, fp_ok = stun_parse(d, creds["pwd"])
        ctx.check("ICE: Binding success (0x0101)", typ == 0x0101, hex(typ))
        ctx.check("ICE: XOR-MAPPED-ADDRESS is our socket",
                  0x0020 in at and xor_addr(at[0x0020]) ==
                  so.getsockname(), at.get(0x0020))
        ctx.check("ICE: MESSAGE-INTEGRITY with mediad's ice-pwd", mi_ok)
        ctx.check("ICE: FINGERPRINT (CRC-32 xor 0x5354554e)", fp_ok)
    tid = os.urandom(12)
    d = ask(stun_req(user, creds["pwd"], tid, bad_mi=True))
    ctx.check("ICE: bad MESSAGE-INTEGRITY -> 401, no success",
              d and stun_parse(d, creds["pwd"])[0] == 0x0111 and
              d[-20:] and 0x0009 in stun_parse(d, creds["pwd"])[1] and
              stun_parse(d, creds["pwd"])[1][0x0009][2:4] == b"\x04\x01",
              d and d.hex())
    d = ask(stun_req("nobody:" + BROWSER_UFRAG, creds["pwd"], os.urandom(12)))
    ctx.check("ICE: unknown USERNAME -> 401",
              d and stun_parse(d, creds["pwd"])[0] == 0x0111, d and d.hex())
    # the browser's ufrag is known from its offer: another one is refused
    for other in (BROWSER_UFRAG[:-1] + "g", BROWSER_UFRAG + "x"):
        d = ask(stun_req("%s:%s" % (creds["ufrag"], other), creds["pwd"],
                         os.urandom(12)))
        ctx.check("ICE: USERNAME with a wrong remote part (%s) -> 401"
                  % other, d and stun_parse(d, creds["pwd"])[0] == 0x0111,
                  d and d.hex())
    so.close()


# ---- media -------------------------------------------------------------------

def stats(relay):
    st = relay.ng("statistics") or {}
    return (st.get("statistics") or {}).get("mediad") or {}


def query_stream(relay, callid, tag):
    q = relay.ng("query", **{"call-id": callid})
    tags = (q or {}).get("tags") or {}
    t = tags.get(tag.encode()) or tags.get(tag) or {}
    try:
        return t["medias"][0]["streams"][0]
    except (KeyError, IndexError, TypeError):
        return {}


def peer_setup(ctx, what, peer, port, creds, role="client"):
    r = peer.cmd("target 127.0.0.1 %d" % port)
    ctx.check("%s: peer aims at mediad's port" % what, r == "target ok", r)
    r = peer.cmd("stun %s:%s %s usecand" % (creds["ufrag"], BROWSER_UFRAG,
                                            creds["pwd"]))
    ctx.check("%s: peer's nominating check answered, its address mapped"
              % what, r == "stun ok 127.0.0.1 %d" % peer.port, r)
    r = peer.cmd("stun %s:%s %s badmi" % (creds["ufrag"], BROWSER_UFRAG,
                                          creds["pwd"]))
    ctx.check("%s: peer's check with a bad MESSAGE-INTEGRITY -> 401"
              % what, r == "stun error 401", r)
    r = peer.cmd("dtls %s %s" % (role, creds["fp"]), timeout=15)
    return r


def media_both_ways(ctx, what, peer, B, to_b_side, pt_a=0, pt_b=0, n=N):
    sa, sb = RtpStream(pt_a), RtpStream(pt_b)
    sent_a = [sa.packet(os.urandom(160)) for _ in range(n)]
    for p in sent_a:
        peer.cmd("send " + p.hex(), reply=False)
        time.sleep(0.005)
    got = B.recv(want=n, timeout=3, idle=1.0)
    want = {rtp_parse(p)["seq"]: rtp_parse(p) for p in sent_a}
    pk = [rtp_parse(d) for d, _ in got]
    ctx.check("%s: %d of %d SRTP packets from the browser reach the phone"
              % (what, len(pk), n), len(pk) == n, len(pk))
    bad = [p for p in pk if not p or p["seq"] not in want or any(
        p[k] != want[p["seq"]][k] for k in ("pt", "ts", "ssrc", "payload"))]
    ctx.check("%s: ... as the exact plain RTP sent" % what, pk and not bad,
              bad[:1])

    sent_b = [sb.packet(os.urandom(160)) for _ in range(n)]
    for p in sent_b:
        B.rtp.sendto(p, to_b_side)
        time.sleep(0.005)
    lines = peer.recv(n, 1500)
    clear = [bytes.fromhex(ln[4:]) for ln in lines if ln.startswith("rtp ")]
    ctx.check("%s: %d of %d phone packets reach the browser as SRTP that "
              "decrypts" % (what, len(clear), n), len(clear) == n,
              [ln for ln in lines if not ln.startswith("rtp ")][:3])
    ctx.check("%s: ... to exactly what the phone sent" % what,
              sorted(clear) == sorted(sent_b) and clear)


def webrtc_to_plain(ctx, relay):
    callid = "dtls1-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "brw-" + os.urandom(3).hex(), "pho-" + os.urandom(3).hex()
    peer, B = Peer(), Endpoint("B")
    offer = chrome_offer(peer.port, peer.fp)
    flags = {"transport-protocol": "RTP/AVP", "ICE": "remove",
             "rtcp-mux": ["demux"]}
    r = ng_offer(relay, callid, ftag, offer, **flags)
    if not ctx.check("W->P: Chrome offer, transport-protocol RTP/AVP, ICE "
                     "remove, rtcp-mux demux: ok", ng_ok(r), r):
        return
    mo = check_plain_sdp(ctx, "W->P: offer to the phone", s(r["sdp"]))
    if not mo:
        return
    ctx.check("W->P: offer to the phone keeps a=rtcp, no a=rtcp-mux",
              attr(mo, "rtcp") and not attr(mo, "rtcp-mux"), mo["attrs"])
    # ICE=force: the answer goes to the browser (the Kamailio-style
    # defaults of lib/media.py say ICE=remove)
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, pts=(0, 101)),
                  ICE="force")
    if not ctx.check("W->P: plain answer from the phone: ok", ng_ok(r), r):
        return
    creds = check_webrtc_sdp(ctx, "W->P: answer to the browser",
                             s(r["sdp"]), Sdp(s(r["sdp"])).audio()["port"],
                             "passive")
    if not creds:
        return
    ma = creds["m"]
    ctx.check("W->P: answer to the browser has PCMU as 0",
              ma["fmts"][:1] == [0], ma["fmts"])

    res = peer_setup(ctx, "W->P", peer, ma["port"], creds)
    ok = ctx.check("W->P: DTLS handshake (peer client, mediad server), "
                   "SRTP profile", res and res.startswith("dtls ok SRTP_"),
                   res)
    st = query_stream(relay, callid, ftag)
    ctx.check("W->P: query: the browser's endpoint is the latched one",
              st.get("endpoint", {}).get("port") == peer.port, st)
    ctx.check("W->P: query: DTLS up, ICE lite",
              s(st.get("DTLS", b"")) == "up" and
              s(st.get("ICE", b"")) == "lite", st)
    python_stun(ctx, ma["port"], creds)
    if not ok:
        return
    # no wait: mediad's Finished left after the worker had the keys
    media_both_ways(ctx, "W->P", peer, B, ("127.0.0.1", mo["port"]))

    # re-offer (re-INVITE): same fingerprint and credentials, media goes on
    r = ng_offer(relay, callid, ftag, offer.replace(" 2 IN IP4", " 3 IN IP4"),
                 **flags)
    ctx.check("W->P: re-offer: ok", ng_ok(r), r)
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, pts=(0, 101)),
                  ICE="force")
    again = ng_ok(r) and check_webrtc_sdp(
        ctx, "W->P: re-answer", s(r["sdp"]), ma["port"], "passive")
    ctx.check("W->P: re-answer keeps ufrag, pwd and fingerprint",
              again and all(again[k] == creds[k] for k in
                            ("ufrag", "pwd", "fp")), again)
    media_both_ways(ctx, "W->P after re-offer", peer, B,
                    ("127.0.0.1", mo["port"]), n=10)

    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    ctx.check("W->P: delete: ok", ng_ok(r), r)
    peer.close()
    B.close()


def plain_to_webrtc(ctx, relay):
    """The browser's handshake runs before its answer is in (as Chrome
    does when the 200 OK is slower than ICE)."""
    callid = "dtls2-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "pho-" + os.urandom(3).hex(), "brw-" + os.urandom(3).hex()
    A, peer = Endpoint("A"), Peer()
    r = ng_offer(relay, callid, ftag, sdp_build(A.port, pts=(0, 8, 101)),
                 **{"transport-protocol": "UDP/TLS/RTP/SAVPF",
                    "ICE": "force", "rtcp-mux": ["offer"],
                    "flags": ["generate-mid"]})
    if not ctx.check("P->W: plain offer, transport-protocol "
                     "UDP/TLS/RTP/SAVPF, ICE force, rtcp-mux offer: ok",
                     ng_ok(r), r):
        return
    text = s(r["sdp"])
    creds = check_webrtc_sdp(ctx, "P->W: offer to the browser", text,
                             Sdp(text).audio()["port"], "actpass")
    if not creds:
        return
    port = creds["m"]["port"]
    res = peer_setup(ctx, "P->W", peer, port, creds)
    ctx.check("P->W: DTLS handshake before the answer: done",
              res and res.startswith("dtls ok SRTP_"), res)
    st = query_stream(relay, callid, ttag) or {}
    r = ng_answer(relay, callid, ftag, ttag, chrome_answer(peer.port,
                                                           peer.fp))
    if not ctx.check("P->W: the browser's answer (setup:active): ok",
                     ng_ok(r), r):
        return
    ma = check_plain_sdp(ctx, "P->W: answer to the phone", s(r["sdp"]))
    if not ma:
        return
    st = query_stream(relay, callid, ttag)
    ctx.check("P->W: query: DTLS up once the answer's fingerprint matched",
              s(st.get("DTLS", b"")) == "up", st)
    media_both_ways(ctx, "P->W", peer, A, ("127.0.0.1", ma["port"]))
    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    ctx.check("P->W: delete: ok", ng_ok(r), r)
    peer.close()
    A.close()


def wrong_fingerprint(ctx, relay):
    callid = "dtls3-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "brw-" + os.urandom(3).hex(), "pho-" + os.urandom(3).hex()
    peer, B = Peer(), Endpoint("B")
    wrong = ":".join("%02X" % b for b in os.urandom(32))
    before = stats(relay)
    r = ng_offer(relay, callid, ftag, chrome_offer(peer.port, wrong),
                 **{"transport-protocol": "RTP/AVP", "ICE": "remove"})
    if not ctx.check("bad fp: offer: ok", ng_ok(r), r):
        return
    mo = Sdp(s(r["sdp"])).audio()
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, pts=(0,)),
                  ICE="force")
    if not ctx.check("bad fp: answer: ok", ng_ok(r), r):
        return
    text = s(r["sdp"])
    creds = check_webrtc_sdp(ctx, "bad fp: answer", text,
                             Sdp(text).audio()["port"], "passive")
    if not creds:
        return
    res = peer_setup(ctx, "bad fp", peer, creds["m"]["port"], creds)
    ctx.check("bad fp: the handshake fails", res and
              res.startswith("dtls fail"), res)
    time.sleep(0.3)
    st = query_stream(relay, callid, ftag)
    ctx.check("bad fp: query shows the leg's DTLS failed",
              s(st.get("DTLS", b"")) == "failed", st)
    after = stats(relay)
    ctx.check("bad fp: statistics dtlsfailures +1",
              after.get("dtlsfailures", 0) - before.get("dtlsfailures", 0)
              == 1, after)
    sb = RtpStream(0)
    for _ in range(5):
        B.rtp.sendto(sb.packet(os.urandom(160)), ("127.0.0.1", mo["port"]))
    lines = peer.recv(5, 500)
    ctx.check("bad fp: nothing is relayed to that leg",
              not [ln for ln in lines if ln.startswith(("rtp", "bad"))],
              lines)
    q = relay.ng("query", **{"call-id": callid})
    ctx.check("bad fp: the call is still there", ng_ok(q), q)
    ctx.check("bad fp: mediad still answers ping",
              s((relay.ng("ping") or {}).get("result", b"")) == "pong")
    relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    peer.close()
    B.close()


def transcode(ctx, relay):
    """The browser sends PCMU over DTLS-SRTP, the phone only does PCMA."""
    callid = "dtls4-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "brw-" + os.urandom(3).hex(), "pho-" + os.urandom(3).hex()
    peer, B = Peer(), Endpoint("B")
    r = ng_offer(relay, callid, ftag, chrome_offer(peer.port, peer.fp,
                                                   pcma=False),
                 **{"transport-protocol": "RTP/AVP", "ICE": "remove",
                    "codec": {"transcode": ["PCMA"]}})
    if not ctx.check("xcode: offer with codec transcode PCMA: ok",
                     ng_ok(r), r):
        return
    mo = Sdp(s(r["sdp"])).audio()
    ctx.check("xcode: offer to the phone has PCMA", 8 in mo["fmts"],
              mo["fmts"])
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, pts=(8,)),
                  ICE="force")
    if not ctx.check("xcode: PCMA answer: ok", ng_ok(r), r):
        return
    text = s(r["sdp"])
    creds = check_webrtc_sdp(ctx, "xcode: answer to the browser", text,
                             Sdp(text).audio()["port"], "passive")
    if not creds:
        return
    ctx.check("xcode: the browser is answered PCMU",
              creds["m"]["fmts"][:1] == [0], creds["m"]["fmts"])
    res = peer_setup(ctx, "xcode", peer, creds["m"]["port"], creds)
    if not ctx.check("xcode: DTLS up", res and res.startswith("dtls ok"),
                     res):
        return
    sa = RtpStream(0)
    samples = tone(1000, 160 * 25)
    for i in range(25):
        peer.cmd("send " + sa.packet(encode(
            samples[160 * i:160 * (i + 1)], "PCMU")).hex(), reply=False)
        time.sleep(0.005)
    got = [rtp_parse(d) for d, _ in B.recv(want=25, timeout=3, idle=1)]
    ctx.check("xcode: 25 packets reach the phone as PT 8",
              len(got) == 25 and all(p and p["pt"] == 8 for p in got),
              [p and p["pt"] for p in got][:3])
    pcm = decode(b"".join(p["payload"] for p in sorted(
        (p for p in got if p), key=lambda p: p["seq"])), "PCMA")
    snr = tone_snr_db(pcm, 1000) if pcm else 0
    ctx.check("xcode: the phone hears the 1 kHz tone (SNR %.1f dB > 30)"
              % snr, snr > 30, snr)

    sb = RtpStream(8)
    samples = tone(1000, 160 * 25)
    for i in range(25):
        B.rtp.sendto(sb.packet(encode(samples[160 * i:160 * (i + 1)],
                                      "PCMA")), ("127.0.0.1", mo["port"]))
        time.sleep(0.005)
    lines = peer.recv(25, 1500)
    clear = [rtp_parse(bytes.fromhex(ln[4:])) for ln in lines
             if ln.startswith("rtp ")]
    ctx.check("xcode: 25 packets reach the browser as SRTP, PT 0",
              len(clear) == 25 and all(p and p["pt"] == 0 for p in clear),
              lines[:2])
    pcm = decode(b"".join(p["payload"] for p in sorted(
        (p for p in clear if p), key=lambda p: p["seq"])), "PCMU")
    snr = tone_snr_db(pcm, 1000) if pcm else 0
    ctx.check("xcode: the browser hears the tone (SNR %.1f dB > 30)" % snr,
              snr > 30, snr)
    # not deleted: mediad's stop must free its SSL and SRTP objects
    peer.close()
    B.close()


def first_packet(ctx, relay, rounds=40):
    """A browser sends its first SRTP packet the instant its handshake is
    done. mediad (the DTLS server here) holds its Finished until the
    worker has the keys, so that packet must get through every time."""
    lost, fails = [], []
    flags = {"transport-protocol": "RTP/AVP", "ICE": "remove",
             "rtcp-mux": ["demux"]}
    for i in range(rounds):
        callid = "dtls5-%d-%d-%s@test" % (os.getpid(), i,
                                          os.urandom(4).hex())
        ftag = "brw-" + os.urandom(3).hex()
        ttag = "pho-" + os.urandom(3).hex()
        peer, B = Peer(), Endpoint("B")
        try:
            r = ng_offer(relay, callid, ftag,
                         chrome_offer(peer.port, peer.fp), **flags)
            if not ng_ok(r):
                fails.append(("offer", r))
                continue
            r = ng_answer(relay, callid, ftag, ttag,
                          sdp_build(B.port, pts=(0, 101)), ICE="force")
            if not ng_ok(r):
                fails.append(("answer", r))
                continue
            m = Sdp(s(r["sdp"])).audio()
            uf, pw = attr(m, "ice-ufrag"), attr(m, "ice-pwd")
            fp = attr(m, "fingerprint")
            if not (uf and pw and fp):
                fails.append(("sdp", m))
                continue
            peer.cmd("target 127.0.0.1 %d" % m["port"])
            r = peer.cmd("stun %s:%s %s usecand" % (uf[0], BROWSER_UFRAG,
                                                    pw[0]))
            if not r.startswith("stun ok"):
                fails.append(("stun", r))
                continue
            r = peer.cmd("dtls client %s sendnow" % fp[0].split()[1],
                         timeout=15)
            if not r.startswith("dtls ok"):
                fails.append(("dtls", r))
                continue
            pk = [rtp_parse(d) for d, _ in B.recv(want=1, timeout=1,
                                                   idle=0.5)]
            if not (len(pk) == 1 and pk[0] and pk[0]["seq"] == 1 and
                    pk[0]["ssrc"] == 0x5eed5eed and
                    pk[0]["payload"] == b"\xd5" * 160):
                lost.append(i)
        finally:
            relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
            peer.close()
            B.close()
    ctx.check("first packet: every round set up (%d of %d)"
              % (rounds - len(fails), rounds), not fails, fails[:2])
    ctx.check("first packet: the SRTP packet sent the instant the "
              "browser's handshake ended reached the phone in %d of %d "
              "rounds" % (rounds - len(fails) - len(lost), rounds - len(fails)),
              not lost, lost)


def run(ctx):
    if not ctx.check("tools/dtlspeer built (%s)" % PEER_BIN,
                     os.access(PEER_BIN, os.X_OK)):
        return
    relay = start_relay(ctx)
    if not relay:
        return
    if relay.kind != "mediad":
        ctx.note("media-dtls runs against mediad only")
        return
    webrtc_to_plain(ctx, relay)
    plain_to_webrtc(ctx, relay)
    wrong_fingerprint(ctx, relay)
    transcode(ctx, relay)
    first_packet(ctx, relay)
    st = stats(relay)
    ctx.check("statistics: ICE answers and DTLS handshakes counted",
              st.get("stunanswered", 0) > 0 and
              st.get("dtlshandshakes", 0) >= 3, st)
    rc, _ = relay.stop()
    ctx.check("mediad stops cleanly with a DTLS call still up (exit 0; "
              "under ASan also no leak)", rc == 0, rc)

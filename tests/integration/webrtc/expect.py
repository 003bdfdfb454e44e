# tests/integration/webrtc/expect.py  see README.md in this directory
#
# alice is a browser: Debian's Chromium (headless, fake microphone)
# running JsSIP (npm, pinned by package-lock.json) on page/, driven over
# the DevTools protocol. bob is a sipp phone (uas-echo.xml) registered
# over UDP whose SDP points at the test's FarEnd, which echoes the RTP.
# Over WS, then over WSS, alice registers (401, 200), calls bob (407,
# 200), the media flows both ways through mediad (DTLS-SRTP + ICE toward
# the browser, plain RTP toward bob), she sends DTMF as RFC 4733 events,
# hangs up; the CDR is written; she unregisters. A wrong password over
# WS ends in 403.
import json
import os
import shutil
import signal
import sys
import time

from cdp import CHROMIUM, Browser, CdpError  # noqa: E402
from media import Sdp, start_relay  # noqa: E402
from sbctest import free_port, wait_until  # noqa: E402
from siptest import (DOMAIN, SipEnv, Sipp, free_udp_port,  # noqa: E402
                     register, skip_without_tools)
from webrtctest import (DTMF_EVENT, FarEnd, PageServer,  # noqa: E402
                        chromium_args, ensure_jssip, jssip_version,
                        make_cert)

HERE = os.path.dirname(os.path.abspath(__file__))
PW = {"alice": "alice-webrtc-%d" % os.getpid(),
      "bob": "bob-webrtc-%d" % os.getpid()}
TONES = "159#"
MIN_PACKETS = 100           # 2 s of 20 ms audio, each way
SHOW = os.environ.get("WEBRTC_SHOW") == "1"      # a visible window
HOLD = int(os.environ.get("WEBRTC_HOLD", "0") or 0)


def msg_text(m):
    return m["text"].replace("\r\n", "\n")


def hdr(m, name):
    """Values of header <name> (long or compact form) in a recorded
    SIP message of the page."""
    compact = {"via": "v", "from": "f", "to": "t", "call-id": "i",
               "contact": "m", "content-type": "c", "content-length": "l"}
    names = {name.lower(), compact.get(name.lower())}
    head = msg_text(m).split("\n\n", 1)[0]
    out = []
    for ln in head.split("\n")[1:]:
        k, sep, v = ln.partition(":")
        if sep and k.strip().lower() in names:
            out.append(v.strip())
    return out


def cseq_method(m):
    c = hdr(m, "CSeq")
    return c[0].split()[-1] if c and c[0].split() else None


def flow(sip, method):
    """The page's messages of one method (CSeq), as 'out REGISTER' /
    'in 401' strings, retransmissions included."""
    out = []
    for m in sip:
        if cseq_method(m) != method:
            continue
        f = m["first"]
        out.append("%s %s" % (m["dir"], f.split()[1] if f.startswith(
            "SIP/2.0") else f.split()[0]))
    return out


def attrs(sdp, media):
    return sdp.attrs + media["attrs"]


def has_attr(sdp, media, prefix):
    return any(a.startswith(prefix) for a in attrs(sdp, media))


def te_pt(media):
    for pt, enc in media["rtpmap"].items():
        if enc.lower() == "telephone-event/8000":
            return pt
    return None


def trimmed_offer(text):
    """The browser's offer without its ssrc/extmap/rtcp-fb clutter, for
    the log (the full one is saved beside it)."""
    keep = []
    for ln in text.replace("\r\n", "\n").split("\n"):
        if ln.startswith(("a=ssrc:", "a=extmap:", "a=rtcp-fb:",
                          "a=msid")):
            continue
        keep.append(ln)
    return "\n".join(keep).strip()


class Phone:
    """The page in the browser: actions and state through window.T."""

    def __init__(self, ctx, br, server, label):
        self.ctx = ctx
        self.br = br
        self.server = server
        self.label = label

    def load(self, ws_url, user, password):
        q = "ws=%s&user=%s&pass=%s&domain=%s&target=bob&tones=%s" % (
            ws_url, user, password, DOMAIN, TONES.replace("#", "%23"))
        ok = self.br.navigate(self.server.url("/index.html?" + q), 15)
        ok = ok and self.br.wait_eval("window.T && T.ready === true", 5)
        return self.ctx.check("%s: page loaded, JsSIP %s ready"
                              % (self.label, self.js("JsSIP.version")),
                              ok, self.br.tail())

    def js(self, expr, timeout=10):
        try:
            return self.br.eval(expr, timeout)
        except CdpError as e:
            return "error: %s" % e

    def state(self):
        return self.js("({ws: T.ws, wsCode: T.wsCode, reg: T.reg, "
                       "regStatus: T.regStatus, regCause: T.regCause, "
                       "call: T.call, callCause: T.callCause, "
                       "callStatus: T.callStatus, endedBy: T.endedBy, "
                       "tones: T.tones, pc: T.pc, errors: T.errors})") or {}

    def sip(self):
        return self.js("T.sip") or []

    def sdp(self):
        return self.js("T.sdp") or []

    def stats(self):
        try:
            return self.br.eval("T.stats()", 10)
        except CdpError:
            return None

    def wait_reg(self, timeout):
        """T.reg once registered or failed, or the WebSocket gone."""
        self.br.wait_eval("['registered', 'failed'].includes(T.reg) || "
                          "T.ws === 'disconnected'", timeout)
        return self.js("T.reg")

    def wait(self, key, values, timeout):
        """T[key] once it is in <values> (or the last seen value)."""
        expr = "[%s].includes(T.%s) && T.%s" % (
            ",".join(json.dumps(v) for v in values), key, key)
        return self.br.wait_eval(expr, timeout) or self.js("T." + key)


class Env(SipEnv):
    """SipEnv with the relay MEDIA_RELAY names: mediad (default) or
    Debian's rtpengine, the reference the test itself is checked
    against."""

    def start(self):
        self.med = start_relay(self.ctx, port_min=self.port_min,
                               port_max=self.port_max)
        if not self.med:
            return False
        if self.med.kind == "rtpengine":
            self.port_min = self.med.port_min
            self.port_max = self.med.port_max
        return self.start_sbc()


# ---- one call over WS or WSS ------------------------------------------------

def registered(ctx, env, aor, transport):
    st, _, b = env.sbc.http("GET", "/api/v1/registrations?aor=" + aor,
                            token=env.sbc.token)
    rows = json.loads(b) if st == 200 else []
    return [r for r in rows if r.get("transport") == transport]


def check_register(ctx, ph, env, label, transport):
    ph.js("T.register()")
    st = ph.wait_reg(10)
    sip = ph.sip()
    fl = flow(sip, "REGISTER")
    c401 = [m for m in sip if m["first"].startswith("SIP/2.0 401")]
    if c401:
        wa = hdr(c401[0], "WWW-Authenticate")
        ctx.check("%s: the 401's last WWW-Authenticate is MD5 (JsSIP keeps "
                  "only the last challenge header of a response and "
                  "answers MD5 only)" % label,
                  wa and "sha-256" not in wa[-1].lower(), wa)
    if not ctx.check("%s: JsSIP registers over %s (REGISTER, 401, "
                     "REGISTER, 200)" % (label, transport.upper()),
                     st == "registered" and fl[:4] == [
                         "out REGISTER", "in 401", "out REGISTER",
                         "in 200"], (ph.state(), fl, [
                             m["text"] for m in sip[:4]],
                                         ph.br.problems()[-2:])):
        return False
    regs = [m for m in sip if m["dir"] == "out"
            and m["first"].startswith("REGISTER")]
    c401 = [m for m in sip if m["first"].startswith("SIP/2.0 401")]
    wa = hdr(c401[0], "WWW-Authenticate") if c401 else []
    ctx.check("%s: the 401 offers MD5 first" % label,
              wa and "sha-256" not in wa[0].lower(), wa)
    ctx.check("%s: JsSIP's REGISTERs go over %s (Via SIP/2.0/%s)"
              % (label, transport.upper(), transport.upper()),
              regs and all((hdr(m, "Via") or [""])[0].upper().startswith(
                  "SIP/2.0/%s " % transport.upper()) for m in regs),
              [hdr(m, "Via") for m in regs])
    ctx.check("%s: the second REGISTER carries Authorization "
              "(digest, username alice)" % label,
              len(regs) >= 2 and any('username="alice"' in a
                                     for a in hdr(regs[1], "Authorization")),
              hdr(regs[1], "Authorization") if len(regs) > 1 else regs)
    rows = wait_until(lambda: registered(ctx, env, "alice@" + DOMAIN,
                                         transport), 5, 0.1)
    ctx.check("%s: the registrar lists alice@%s with transport %s"
              % (label, DOMAIN, transport), rows, rows)
    return True


def save_sdps(ctx, label, ph):
    """The browser's offer and the answer it got (or None), each saved
    in the scenario's directory and shown (the offer trimmed)."""
    sdps = ph.sdp()
    offer = next((s["sdp"] for s in sdps if s["originator"] == "local"
                  and s["type"] == "offer"), None)
    answer = next((s["sdp"] for s in sdps if s["originator"] == "remote"
                   and s["type"] == "answer"), None)
    for what, text in (("offer", offer), ("answer", answer)):
        if not text:
            continue
        path = os.path.join(ctx.dir, "%s-%s.sdp" % (what, label))
        with open(path, "w") as f:
            f.write(text)
        ctx.note("%s: the browser's %s (%s; in full in %s):\n%s"
                 % (label, what, "trimmed" if what == "offer" else "as got",
                    path, trimmed_offer(text) if what == "offer"
                    else text.replace("\r\n", "\n").strip()))
    return offer, answer


def check_sdps(ctx, env, label, offer, answer, inv_bob):
    """The offer the browser made, the answer it got, the offer bob got.
    Returns (answer media, bob's media) or None."""
    ok = ctx.check("%s: the browser's offer is WebRTC (UDP/TLS/RTP/SAVPF, "
                   "a=fingerprint, ICE, a 127.0.0.1 candidate)" % label,
                   offer and "UDP/TLS/RTP/SAVPF" in offer
                   and "a=fingerprint:" in offer
                   and " 127.0.0.1 " in offer, offer)
    if not ok:
        return None

    ans_m = None
    if answer:
        sa = Sdp(answer)
        ans_m = sa.audio()
    cands = [a for a in attrs(sa, ans_m) if a.startswith("candidate:")] \
        if ans_m else []
    ok_ans = bool(
        ans_m and ans_m["proto"] == "UDP/TLS/RTP/SAVPF"
        and has_attr(sa, ans_m, "fingerprint:sha-256 ")
        and any(a in attrs(sa, ans_m) for a in ("setup:active",
                                                  "setup:passive"))
        and has_attr(sa, ans_m, "ice-ufrag:")
        and has_attr(sa, ans_m, "ice-pwd:")
        and "rtcp-mux" in attrs(sa, ans_m)
        and any(c.split()[4:6] == ["127.0.0.1", str(ans_m["port"])]
                and c.split()[2].lower() == "udp" for c in cands)
        and env.in_range(ans_m["port"]))
    ctx.check("%s: the answer to the browser is WebRTC: UDP/TLS/RTP/SAVPF, "
              "a=fingerprint:sha-256, a=setup active|passive, "
              "ice-ufrag/pwd, rtcp-mux, a UDP host candidate 127.0.0.1 at "
              "its m= port in %s's range %d..%d"
              % (label, env.med.kind, env.port_min, env.port_max), ok_ans,
              answer)
    ctx.check("%s: the answer to the browser has PCMU/8000 and "
              "telephone-event/8000" % label,
              ans_m and ans_m["rtpmap"].get(0, "").upper() == "PCMU/8000"
              and te_pt(ans_m) is not None, ans_m and ans_m["rtpmap"])

    sb = Sdp(inv_bob.partition("\n\n")[2])
    bob_m = sb.audio()
    ok_bob = bool(
        bob_m and bob_m["proto"] == "RTP/AVP"
        and bob_m["conn"] == "127.0.0.1" and env.in_range(bob_m["port"])
        and not any(has_attr(sb, bob_m, p) for p in (
            "fingerprint:", "setup:", "ice-", "candidate:", "crypto:")))
    ctx.check("%s: bob's offer is plain RTP/AVP at 127.0.0.1, port in "
              "%s's range, no DTLS/ICE/SDES attributes"
              % (label, env.med.kind),
              ok_bob, inv_bob.partition("\n\n")[2])
    ctx.check("%s: bob's offer has PCMU and telephone-event/8000" % label,
              bob_m and 0 in bob_m["fmts"] and te_pt(bob_m) is not None,
              bob_m and bob_m["rtpmap"])
    if not (ok_ans and ok_bob):
        return None
    return ans_m, bob_m


def check_media(ctx, label, ph, far, ans_m, bob_m):
    """Packets both ways, through mediad at the SDPs' addresses."""
    def flowing():
        s = ph.stats() or {}
        f = far.snapshot()
        i, o = s.get("inbound") or {}, s.get("outbound") or {}
        return (i.get("packetsReceived", 0) >= MIN_PACKETS
                and o.get("packetsSent", 0) >= MIN_PACKETS
                and f["rx"] >= MIN_PACKETS) and s
    s1 = wait_until(flowing, 12, 0.3) or ph.stats() or {}
    f = far.snapshot()
    time.sleep(0.25)            # past Chromium's getStats() cache (50 ms)
    s2 = ph.stats() or {}
    ctx.note("%s: getStats: %s" % (label, json.dumps(s1, sort_keys=True)))
    ctx.note("%s: far end: %s" % (label, {k: v for k, v in f.items()
                                          if k != "others"}))
    tr = s1.get("transport") or {}
    ctx.check("%s: ICE connected and DTLS connected (getStats transport)"
              % label, tr.get("iceState") in ("connected", "completed")
              and tr.get("dtlsState") == "connected"
              and tr.get("srtpCipher"), tr)
    rem = s1.get("remote") or {}
    ctx.check("%s: the selected candidate pair's remote end is the relay "
              "at the answer's 127.0.0.1:%d over UDP" % (label,
                                                         ans_m["port"]),
              rem.get("address") == "127.0.0.1"
              and rem.get("port") == ans_m["port"]
              and rem.get("protocol") == "udp", (rem, s1.get("pair")))
    o = s1.get("outbound") or {}
    i = s1.get("inbound") or {}
    ctx.check("%s: browser outbound-rtp: >= %d PCMU packets sent"
              % (label, MIN_PACKETS), o.get("packetsSent", 0) >= MIN_PACKETS
              and (o.get("codec") or "").startswith("audio/PCMU"), o)
    ctx.check("%s: browser inbound-rtp: >= %d PCMU packets received, "
              "bytes too" % (label, MIN_PACKETS),
              i.get("packetsReceived", 0) >= MIN_PACKETS
              and i.get("bytesReceived", 0) >= 160 * MIN_PACKETS
              and (i.get("codec") or "").startswith("audio/PCMU"), i)
    ctx.check("%s: the echoed audio plays in the browser (inbound-rtp "
              "totalSamplesReceived and totalAudioEnergy > 0)" % label,
              i.get("totalSamplesReceived", 0) > 0
              and i.get("totalAudioEnergy", 0) > 0, i)
    ctx.check("%s: far end got >= %d PCMU packets, all from the relay at "
              "bob's "
              "SDP address 127.0.0.1:%d" % (label, MIN_PACKETS,
                                            bob_m["port"]),
              f["pts"].get(0, 0) >= MIN_PACKETS
              and f["srcs"] == [("127.0.0.1", bob_m["port"])], f["srcs"])
    ctx.check("%s: the browser's audio reached the far end as audio "
              "(PCMU payloads that are not silence)" % label,
              f["voiced"] > 0, f["voiced"])
    ctx.check("%s: counts agree: far end got <= what the browser sent, "
              "the browser got <= what the far end echoed" % label,
              f["rx"] <= (s2.get("outbound") or {}).get("packetsSent", 0)
              and i.get("packetsReceived", 0) <= f["tx"],
              (f["rx"], s2.get("outbound"), i.get("packetsReceived"),
               f["tx"]))
    ctx.check("%s: nothing but RTP reached the far end (no STUN, no "
              "DTLS on the plain leg)" % label,
              f["stun"] == 0 and f["not_rtp"] == 0, f)
    return bool(i.get("packetsReceived", 0) >= MIN_PACKETS)


def check_dtmf(ctx, label, ph, far, bob_m):
    pt = te_pt(bob_m)
    ok = ph.js("T.dtmf(%s)" % json.dumps(TONES))
    tones = ph.br.wait_eval("T.tones.length && T.tones[T.tones.length - 1]"
                            " === '' && T.tones", 8) or ph.js("T.tones")
    ctx.check("%s: the browser played %s as RFC 4733 (RTCDTMFSender "
              "tonechange %s)" % (label, TONES, list(TONES) + [""]),
              ok is True and tones == list(TONES) + [""],
              (ok, tones, ph.js("T.errors")))
    want = [DTMF_EVENT[d] for d in TONES]

    def arrived():
        ev = far.events(pt)
        return [e["event"] for e in ev if e["end"]] == want and ev
    ev = wait_until(arrived, 4, 0.1) or far.events(pt)
    ctx.note("%s: telephone-events at the far end (pt %s): %s"
             % (label, pt, ev))
    ctx.check("%s: the far end got the digits as RFC 4733 events "
              "(payload type %s of bob's SDP): %s, each ended, "
              "one event per timestamp" % (label, pt, want),
              [e["event"] for e in ev] == want
              and all(e["end"] and not e["mixed"] and e["duration"] > 0
                      for e in ev), ev)


def one_call(ctx, env, br, server, label, ws_url, transport, bob_port):
    ph = Phone(ctx, br, server, label)
    if not ph.load(ws_url, "alice", PW["alice"]):
        return
    if not check_register(ctx, ph, env, label, transport):
        return
    n_cdr = len(env.db.cdrs()) + 1
    far = FarEnd(ctx, "farend-" + label)
    bob = Sipp(ctx, label + "-bob", os.path.join(HERE, "uas-echo.xml"),
               port=bob_port, keys={"user": "bob"}, media=far.addr,
               timeout=HOLD + 40)
    try:
        if not ctx.check("%s: bob's sipp listens on 127.0.0.1:%d"
                         % (label, bob_port), bob.wait_bound(), bob.tail()):
            return
        if HOLD:
            ctx.note("WEBRTC_HOLD: open %s in a browser with the switches "
                     "of README.md; holding %d s"
                     % (server.url("/index.html?ws=%s&user=alice&pass=%s"
                                   "&target=bob" % (ws_url, PW["alice"])),
                        HOLD))
            time.sleep(HOLD)
        ph.js("T.dial('sip:bob@%s')" % DOMAIN)
        st = ph.wait("call", ["confirmed", "failed", "ended"], 20)
        sip = ph.sip()
        fl = flow(sip, "INVITE")
        ctx.note("%s: call state %s; INVITE flow %s" % (label, ph.state(),
                                                        fl))
        ctx.check("%s: the INVITE was challenged (407) and sent again "
                  "with Proxy-Authorization" % label,
                  fl[:3] == ["out INVITE", "in 407", "out INVITE"]
                  and any(m["first"].startswith("INVITE") and
                          hdr(m, "Proxy-Authorization") for m in sip), fl)
        inv = bob.wait_received("INVITE ", timeout=1)
        ctx.check("%s: the call reached bob (INVITE)" % label, inv,
                  bob.tail())
        offer, answer = save_sdps(ctx, label, ph)
        if inv:
            ctx.note("%s: the SDP bob got:\n%s" % (
                label, inv[0].partition("\n\n")[2].strip()))
        if not ctx.check("%s: call answered: JsSIP confirmed (200, ACK)"
                         % label, st == "confirmed", ph.state()):
            return
        r = check_sdps(ctx, env, label, offer, answer, inv[0]) \
            if inv else None
        if not r:
            return
        ans_m, bob_m = r
        check_media(ctx, label, ph, far, ans_m, bob_m)
        check_dtmf(ctx, label, ph, far, bob_m)

        ph.js("T.hangup()")
        st = ph.wait("call", ["ended", "failed"], 10)
        ctx.check("%s: the browser hangs up (BYE, 200)" % label,
                  st == "ended" and ph.js("T.endedBy") == "local"
                  and flow(ph.sip(), "BYE")[:2] == ["out BYE", "in 200"],
                  (ph.state(), flow(ph.sip(), "BYE")))
        ctx.check("%s: bob got the BYE" % label,
                  bob.wait_received("BYE ", timeout=5), bob.tail())
    finally:
        # a check that gave up mid-call leaves it up: end it, or bob's
        # sipp waits for a BYE until its timeout
        if ph.js("T.call") in ("calling", "progress", "accepted",
                               "confirmed"):
            ph.js("T.hangup()")
            ph.wait("call", ["ended", "failed"], 5)
        rc = bob.finish()
        okc, bad = bob.counts()
        ctx.check("%s: bob's sipp exit 0, one call, none failed" % label,
                  rc == 0 and bad == 0 and (okc or 0) >= 1, bob.brief())
        far.stop()
    rows = env.db.wait_cdrs(n_cdr)
    row = rows[n_cdr - 1] if len(rows) >= n_cdr else None
    ctx.check("%s: CDR: internal, alice -> bob, 200, answered, hung up by "
              "the caller" % label,
              row and row["direction"] == "internal"
              and "alice" in row["from_uri"] and "bob" in row["to_uri"]
              and row["result"] == 200 and row["answered_at"]
              and row["hangup_side"] == "caller", row or rows)

    ph.js("T.stop()")
    st = ph.wait("reg", ["unregistered"], 5)
    gone = wait_until(lambda: not registered(ctx, env, "alice@" + DOMAIN,
                                             transport), 5, 0.1)
    ctx.check("%s: JsSIP unregisters (REGISTER Expires 0, 200), the "
              "registrar drops the contact" % label,
              st == "unregistered" and gone, (st, ph.state()))


def incoming_call(ctx, env, br, server, label, ws_url, transport, bob_port):
    """bob (a sipp phone, plain RTP/AVP) calls the browser: JsSIP gets a
    WebRTC offer made by the relay, answers it, media flows both ways,
    bob hangs up."""
    ph = Phone(ctx, br, server, label)
    if not ph.load(ws_url + "&answer=1", "alice", PW["alice"]):
        return
    if not check_register(ctx, ph, env, label, transport):
        return
    n_cdr = len(env.db.cdrs()) + 1
    far = FarEnd(ctx, "farend-" + label)
    bob = Sipp(ctx, label + "-bob", "call.xml", port=bob_port,
               remote=env.target, service="alice", auth=("bob", PW["bob"]),
               keys={"user": "bob"}, media=far.addr, hold_ms=7000,
               timeout=40)
    try:
        st = ph.wait("call", ["confirmed", "failed", "ended"], 20)
        inc = ph.js("T.incoming") or []
        offer = inc[0]["sdp"] if inc else None
        sdps = ph.sdp()
        answer = next((x["sdp"] for x in sdps if x["originator"] == "local"
                       and x["type"] == "answer"), None)
        for what, text in (("offer", offer), ("answer", answer)):
            if text:
                with open(os.path.join(ctx.dir, "%s-%s.sdp"
                                       % (what, label)), "w") as f:
                    f.write(text)
        ctx.note("%s: the offer the browser got:\n%s" % (
            label, (offer or "").replace("\r\n", "\n").strip()))
        if not ctx.check("%s: bob's call reached the browser (INVITE from "
                         "bob over %s)" % (label, transport.upper()),
                         inc and "bob@" in inc[0]["from"], (inc, st,
                                                            bob.tail())):
            return
        so = Sdp(offer or "")
        om = so.audio()
        cands = [a for a in attrs(so, om) if a.startswith("candidate:")] \
            if om else []
        ctx.check("%s: the offer to the browser is WebRTC: "
                  "UDP/TLS/RTP/SAVPF, a=fingerprint:sha-256, "
                  "a=setup:actpass, ice-ufrag/pwd, a=ice-lite, rtcp-mux, "
                  "a=mid in a BUNDLE group, a UDP host candidate 127.0.0.1 "
                  "at its m= port in %s's range"
                  % (label, env.med.kind),
                  om and om["proto"] == "UDP/TLS/RTP/SAVPF"
                  and has_attr(so, om, "fingerprint:sha-256 ")
                  and "setup:actpass" in attrs(so, om)
                  and has_attr(so, om, "ice-ufrag:")
                  and has_attr(so, om, "ice-pwd:")
                  and "ice-lite" in attrs(so, om)
                  and "rtcp-mux" in attrs(so, om)
                  and has_attr(so, om, "mid:")
                  and has_attr(so, om, "group:BUNDLE ")
                  and any(c.split()[4:6] == ["127.0.0.1", str(om["port"])]
                          for c in cands)
                  and env.in_range(om["port"]), offer)
        ctx.check("%s: the offer to the browser keeps PCMU and "
                  "telephone-event/8000" % label,
                  om and 0 in om["fmts"] and te_pt(om) is not None,
                  om and om["rtpmap"])
        if not ctx.check("%s: JsSIP answered, call confirmed (200, ACK)"
                         % label, st == "confirmed", (ph.state(),
                                                      flow(ph.sip(),
                                                           "INVITE"))):
            return
        sa = Sdp(answer or "")
        am = sa.audio()
        ctx.check("%s: the browser's answer is UDP/TLS/RTP/SAVPF with "
                  "a=setup:active (it is the DTLS client) and rtcp-mux"
                  % label, am and am["proto"] == "UDP/TLS/RTP/SAVPF"
                  and "setup:active" in attrs(sa, am)
                  and "rtcp-mux" in attrs(sa, am), answer)
        ok200 = bob.wait_received("SIP/2.0 200", method="INVITE",
                                  timeout=2)
        bm = Sdp(ok200[0].partition("\n\n")[2]).audio() if ok200 \
            else None
        if not ctx.check("%s: bob's 200 carries plain RTP/AVP at "
                         "127.0.0.1 in %s's range"
                         % (label, env.med.kind),
                         bm and bm["proto"] == "RTP/AVP"
                         and bm["conn"] == "127.0.0.1"
                         and env.in_range(bm["port"]),
                         ok200 and ok200[0]):
            return
        if om:
            check_media(ctx, label, ph, far, om, bm)
        st = ph.wait("call", ["ended", "failed"], 15)
        ctx.check("%s: bob hangs up: the browser's call ends (BYE from "
                  "the remote side)" % label,
                  st == "ended" and ph.js("T.endedBy") == "remote"
                  and flow(ph.sip(), "BYE")[:2] == ["in BYE", "out 200"],
                  (ph.state(), flow(ph.sip(), "BYE")))
    finally:
        if ph.js("T.call") in ("incoming", "progress", "accepted",
                               "confirmed"):
            ph.js("T.hangup()")
            ph.wait("call", ["ended", "failed"], 5)
        rc = bob.wait()
        ctx.check("%s: bob's sipp exit 0 (INVITE, 407, INVITE, 200, ACK, "
                  "BYE, 200)" % label, rc == 0, bob.brief())
        far.stop()
    rows = env.db.wait_cdrs(n_cdr)
    row = rows[n_cdr - 1] if len(rows) >= n_cdr else None
    ctx.check("%s: CDR: internal, bob -> alice, 200, answered, hung up by "
              "the caller" % label,
              row and row["direction"] == "internal"
              and "bob" in row["from_uri"] and "alice" in row["to_uri"]
              and row["result"] == 200 and row["answered_at"]
              and row["hangup_side"] == "caller", row or rows)
    ph.js("T.stop()")
    ph.wait("reg", ["unregistered"], 5)


def wrong_password(ctx, br, server, ws_url):
    label = "ws-badpw"
    ph = Phone(ctx, br, server, label)
    if not ph.load(ws_url, "alice", "not-" + PW["alice"]):
        return
    ph.js("T.register()")
    st = ph.wait_reg(10)
    fl = flow(ph.sip(), "REGISTER")
    ctx.check("%s: a wrong password: REGISTER, 401, REGISTER, 403, "
              "JsSIP reports registrationFailed" % label,
              st == "failed" and ph.js("T.regStatus") == 403
              and fl[:4] == ["out REGISTER", "in 401", "out REGISTER",
                             "in 403"], (ph.state(), fl))
    ph.js("T.stop()")


def run(ctx):
    if not skip_without_tools(ctx):
        return
    if not ctx.check("chromium installed (Debian package chromium)",
                     CHROMIUM is not None):
        return
    bundle = ensure_jssip(ctx, HERE)
    if not bundle:
        return
    ctx.note("JsSIP %s" % jssip_version(HERE))
    pem, spki = make_cert(ctx)
    if not ctx.check("a self-signed certificate for 127.0.0.1 (openssl)",
                     pem, spki):
        return
    ws_port, wss_port = free_port(udp=False), free_port(udp=False)
    env = Env(ctx, sip_ws="127.0.0.1:%d" % ws_port,
                 sip_wss="127.0.0.1:%d" % wss_port, tls_cert=pem)
    if not env.start():
        return
    st, _, b = env.sbc.http("POST", "/api/v1/subscribers",
                            {"username": "alice", "domain": DOMAIN,
                             "password": PW["alice"],
                             "display_name": "Alice (browser)"},
                            token=env.sbc.token)
    ctx.check("alice provisioned through the REST API", st in (200, 201),
              (st, b))
    env.db.subscriber("bob", PW["bob"])
    bob_port = free_udp_port("127.0.0.1")
    r = register(ctx, "reg-bob", env, "bob", PW["bob"], port=bob_port)
    if not ctx.check("bob (sipp) registers from 127.0.0.1:%d (401, 200)"
                     % bob_port, r.rc == 0, r.brief()):
        return

    page = os.path.join(HERE, "page")
    server = PageServer(ctx, {
        "/index.html": (os.path.join(page, "index.html"),
                        "text/html; charset=utf-8"),
        "/webrtc.js": (os.path.join(page, "webrtc.js"),
                       "text/javascript; charset=utf-8"),
        "/jssip.min.js": (bundle, "text/javascript; charset=utf-8"),
    })
    br = Browser(ctx.dir, os.path.join(ctx.dir, "chromium.log"),
                 extra_args=chromium_args(spki), headless=not SHOW)
    ctx.owned.append(br)
    try:
        if not ctx.check("chromium started, DevTools attached",
                         br.connect(), br.tail()):
            return
        one_call(ctx, env, br, server, "ws", "ws://127.0.0.1:%d" % ws_port,
                 "ws", bob_port)
        one_call(ctx, env, br, server, "wss",
                 "wss://127.0.0.1:%d" % wss_port, "wss", bob_port)
        incoming_call(ctx, env, br, server, "ws-in",
                      "ws://127.0.0.1:%d" % ws_port, "ws", free_udp_port(
                          "127.0.0.1"))
        wrong_password(ctx, br, server, "ws://127.0.0.1:%d" % ws_port)
        bad = [p for p in br.problems() if "favicon" not in p]
        if bad:
            ctx.note("page console errors: %s" % bad[:8])
    finally:
        br.stop()
        # the profile is big; a child process may still write into it as
        # it goes, hence the second pass
        for _ in range(2):
            shutil.rmtree(br.profile, ignore_errors=True)
            time.sleep(0.3)
        server.stop()

    rc, _ = env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("%s SIGTERM: exit 0" % env.med.kind, rc == 0, rc)


if __name__ == "__main__":
    sys.exit("run me with tests/integration/run.py tests/integration/webrtc")

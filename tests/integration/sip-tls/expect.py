# tests/integration/sip-tls/expect.py  see README.md in this directory
#
# Phones on TLS, WS, WSS and TCP (ua.py over one connection each, since
# Debian's sipp has neither TLS nor WebSocket) and a UDP sipp phone,
# calling each other through sbc + mediad on loopback; then connection
# loss and garbage.
import json
import os
import signal
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ua as U  # noqa: E402
import ws  # noqa: E402
from media import start_relay  # noqa: E402
from sbctest import free_port, wait_until  # noqa: E402
from siptest import (DOMAIN, MediaEp, SipEnv, Sipp, check_hiding,  # noqa
                     check_sdp, free_udp_port, register,
                     rtp_both_ways, sdp_addr, sdp_of, skip_without_tools)

PW = {"ulf": "ulf-udp-1", "tina": "tina-tls-2", "wendy": "wendy-ws-3",
      "wes": "wes-wss-4", "tom": "tom-tcp-5", "gina": "gina-junk-6"}
LIBRE_ACCEPT_TIMER = 32        # s: libre 1.1.0 closed WS connections then


class Env:
    pass


class RelayEnv(SipEnv):
    """SipEnv with the relay MEDIA_RELAY names (mediad or rtpengine)."""

    def start(self):
        self.med = start_relay(self.ctx, port_min=self.port_min,
                               port_max=self.port_max)
        if not self.med:
            return False
        self.port_min = getattr(self.med, "port_min", self.port_min)
        self.port_max = getattr(self.med, "port_max", self.port_max)
        return self.start_sbc()


def registrations(e, aor=None):
    st, _, b = e.env.sbc.http("GET", "/api/v1/registrations",
                              token=e.env.sbc.token)
    rows = json.loads(b) if st == 200 else []
    return [r for r in rows if aor is None or r["aor"] == aor]


def gone(e, aor, timeout=5):
    """True once <aor> is out of the API's list and the database."""
    return bool(wait_until(lambda: not registrations(e, aor) and
                           not e.env.db.registrations(aor), timeout, 0.1))


def check_registered(ctx, e, label, phone, first, final, tp):
    aor = "%s@%s" % (phone.user, DOMAIN)
    ctx.check("%s: REGISTER over %s: 401 then 200" % (label, tp.upper()),
              first is not None and final is not None and
              first.status == 401 and final.status == 200,
              (first and first.first, final and final.first))
    if not final or final.status != 200:
        return False
    ctx.check("%s: the 200 lists the contact %s" % (label, phone.contact),
              any(phone.contact in c for c in final.all("contact")),
              final.all("contact"))
    src = "%s:%d" % (phone.ip, phone.port)
    api = registrations(e, aor)
    ctx.check("%s: API lists the binding with transport %s and source %s "
              "(the connection's, not the Contact's)" % (label, tp, src),
              len(api) == 1 and api[0]["transport"] == tp and
              api[0]["source"] == src and
              api[0]["contact"] == phone.contact, api)
    rows = wait_until(lambda: e.env.db.registrations(aor), 3, 0.05)
    ctx.check("%s: the database row says %s from %s" % (label, tp, src),
              rows and rows[0]["transport"] == tp and rows[0]["source"] ==
              src, rows)
    return True


def sdp_for(ep):
    return lambda offer: U.sdp(ep.ip, ep.port,
                               U.answer_direction(offer.body))


def ua_sdp_addr(msg):
    return sdp_addr(sdp_of(msg.text)) if msg else None


# ---- TLS ---------------------------------------------------------------------

def tls_phone(ctx, e):
    ctxt = U.tls_client_context(e.crt)
    try:
        conn = U.StreamConn("127.0.0.1", e.tls_port, ctxt)
    except (OSError, ssl.SSLError) as x:
        ctx.check("TLS: handshake with sip_tls, certificate verified "
                  "against tls_cert", False, x)
        return None
    ctx.check("TLS: handshake with sip_tls, certificate verified against "
              "tls_cert (CN %s)" % dict(x[0] for x in conn.cert["subject"])
              .get("commonName"), True)
    tina = U.UA("tina", conn, "tina", PW["tina"], DOMAIN, "TLS",
                "10.9.8.7:5061", "sip:tina@10.9.8.7:5061;transport=tls")
    f, r = tina.register()
    if not check_registered(ctx, e, "TLS", tina, f, r, "tls"):
        return None

    # RFC 5626 3.5.1: a CRLFCRLF ping gets a CRLF pong
    tina.conn.send(b"\r\n\r\n")
    ctx.check("TLS: a CRLFCRLF keepalive gets a CRLF pong (RFC 5626)",
              wait_until(lambda: tina.conn.pongs >= 1, 3, 0.05),
              tina.conn.pongs)
    return tina


def udp_to_tls(ctx, e, tina):
    """ulf (sipp, UDP) calls tina: INVITE, hold, resume and BYE all
    reach her over her TLS connection."""
    label = "UDP->TLS"
    ma, mb = MediaEp("ulf"), MediaEp("tina")
    ulf = Sipp(ctx, "udp-tls-ulf", "call-hold.xml", port=e.ulf_port,
               remote=e.env.target, service="tina",
               auth=("ulf", PW["ulf"]), keys={"user": "ulf"},
               media=ma.addr, hold_ms=3000)
    d, inv, ack = tina.answer(sdp_for(mb), timeout=15)
    ok = ctx.check("%s: INVITE reached tina over TLS, her 200 was ACKed"
                   % label, d is not None and ack is not None,
                   ulf.tail() if d is None else "no ACK")
    if ok:
        ctx.check("%s: R-URI is tina's contact (host 10.9.8.7, never "
                  "connected to)" % label,
                  inv.first.split()[1] == tina.contact, inv.first)
        ctx.check("%s: Via says TLS" % label,
                  (inv.hdr("via") or "").startswith("SIP/2.0/TLS "),
                  inv.hdr("via"))
        ok200 = ulf.wait_received("SIP/2.0 200", method="INVITE",
                                  timeout=5)
        a = check_sdp(ctx, e.env, label + ": 200 ulf got", ok200 and
                      ok200[0], mb.port)
        b = check_sdp(ctx, e.env, label + ": INVITE tina got", inv.text,
                      ma.port)
        if a and b:
            rtp_both_ways(ctx, label, ma, a[:2], mb, b[:2])
        for want in ("recvonly", "sendrecv"):
            rinv, rack = tina.answer_reinvite(d, sdp_for(mb), timeout=10)
            off = ua_sdp_addr(rinv)
            ctx.check("%s: re-INVITE (tina answers a=%s) reached her over "
                      "TLS in her dialog, ACKed" % (label, want),
                      rinv is not None and rack is not None and off and
                      U.answer_direction(rinv.body) == want,
                      rinv and rinv.first)
        bye = tina.wait_bye(d, timeout=10)
        ctx.check("%s: ulf's BYE reached tina over TLS" % label,
                  bye is not None)
    rc = ulf.wait()
    ctx.check("%s: ulf's sipp (call-hold.xml) exit 0" % label, rc == 0,
              ulf.brief())
    check_hiding(ctx, label, tina, ulf)
    check_hiding(ctx, label, ulf, tina)
    ma.close()
    mb.close()


def phone_to_udp(ctx, e, tina, uas_xml, label, tina_hangs_up):
    """<tina> (any ua.UA) calls ulf (sipp UAS on his registered UDP
    port); when ulf hangs up, his BYE must reach her over her own
    connection (the A leg's in-dialog requests)."""
    ma, mb = MediaEp("tina"), MediaEp("ulf")
    ulf = Sipp(ctx, label.replace(">", "").replace(" ", "-") + "-ulf",
               uas_xml, port=e.ulf_port, keys={"user": "ulf"},
               media=mb.addr, hold_ms=None if tina_hangs_up else 3000)
    if not ctx.check("%s: ulf's sipp listens" % label, ulf.wait_bound(),
                     ulf.tail()):
        return
    d, r = tina.call("ulf", U.sdp(ma.ip, ma.port), timeout=15)
    ctx.check("%s: %s's INVITE (407, then credentials) got 200"
              % (label, tina.name), d is not None, r and r.first)
    if d:
        inv = ulf.wait_received("INVITE ", timeout=5)
        a = check_sdp(ctx, e.env, label + ": 200 the caller got", r.text,
                      mb.port)
        b = check_sdp(ctx, e.env, label + ": INVITE ulf got",
                      inv and inv[0], ma.port)
        if a and b:
            rtp_both_ways(ctx, label, ma, a[:2], mb, b[:2])
        if tina_hangs_up:
            fin = tina.bye(d)
            ctx.check("%s: %s's BYE over %s got 200" % (label, tina.name,
                                                         tina.tp),
                      fin is not None and fin.status == 200,
                      fin and fin.first)
        else:
            bye = tina.wait_bye(d, timeout=10)
            ctx.check("%s: ulf's BYE reached %s (the caller) over its "
                      "%s connection" % (label, tina.name, tina.tp),
                      bye is not None)
    rc = ulf.finish()
    ok, bad = ulf.counts()
    ctx.check("%s: ulf's sipp (%s) exit 0, one call, none failed"
              % (label, uas_xml), rc == 0 and bad == 0 and (ok or 0) >= 1,
              ulf.brief())
    ma.close()
    mb.close()


# ---- WS / WSS ------------------------------------------------------------------

def ws_phone(ctx, e, name, secure):
    tp = "wss" if secure else "ws"
    port = e.wss_port if secure else e.ws_port
    sctx = U.tls_client_context(e.crt) if secure else None
    try:
        w = ws.WebSocket("127.0.0.1", port, secure=secure,
                         ssl_context=sctx).connect()
    except (OSError, ws.HandshakeError, ssl.SSLError) as x:
        ctx.check("%s: WebSocket handshake" % tp.upper(), False, x)
        return None
    ctx.check("%s: handshake: 101 with Sec-WebSocket-Protocol: sip (RFC "
              "7118; a browser fails without it)%s" % (
                  tp.upper(), ", certificate verified" if secure else ""),
              w.status == 101 and w.protocol == "sip", w.headers)
    host = "%s.invalid" % U.rnd(5)
    phone = U.UA(name, U.WsConn(w), name, PW[name], DOMAIN, tp.upper(),
                 host, "sip:%s@%s;transport=%s" % (U.rnd(4), host, tp))
    f, r = phone.register()
    if not check_registered(ctx, e, tp.upper(), phone, f, r, tp):
        return None
    return phone


def webrtc_answer(offer):
    """A browser-shaped answer to sbc's WebRTC offer (what JsSIP would
    send): DTLS-SRTP, ICE, rtcp-mux. Only the signalling is tested:
    this phone does no DTLS, so no media flows."""
    mid = None
    for ln in offer.body.splitlines():
        if ln.startswith("a=mid:"):
            mid = ln[6:].strip()
    fp = ":".join("%02X" % b for b in os.urandom(32))
    return ("v=0\r\no=- 4242 1 IN IP4 127.0.0.1\r\ns=-\r\n"
            "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\n" +
            ("a=mid:%s\r\n" % mid if mid else "") +
            "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
            "a=fingerprint:sha-256 %s\r\na=setup:active\r\n"
            "a=rtcp-mux\r\na=candidate:1 1 UDP 2130706431 127.0.0.1 9 typ "
            "host\r\na=sendrecv\r\n" % (U.rnd(4), U.rnd(12), fp))


def relay_does_webrtc(e):
    """True when the media relay takes a WebRTC offer (ICE force,
    UDP/TLS/RTP/SAVPF): what sbc asks for a call to a WS/WSS phone."""
    cid = "sip-tls-probe-" + U.rnd(4)
    r = e.env.med.ng("offer", **{
        "call-id": cid, "from-tag": "probe", "ICE": "force",
        "transport-protocol": "UDP/TLS/RTP/SAVPF",
        "sdp": U.sdp("127.0.0.1", 40000)})
    e.env.med.ng("delete", **{"call-id": cid, "from-tag": "probe"})
    return isinstance(r, dict) and r.get("result") in (b"ok", "ok")


def udp_to_ws(ctx, e, phone, label):
    """ulf calls <phone> (registered over WS/WSS with a .invalid
    Contact): the INVITE, the ACK and ulf's BYE arrive on its WebSocket.
    sbc gives a browser WebRTC media, so the phone answers like one."""
    if not e.webrtc:
        ctx.note("%s skipped: the media relay refuses WebRTC offers (ICE "
                 "force); run with MEDIA_RELAY=rtpengine" % label)
        return
    ma = MediaEp("ulf")
    ulf = Sipp(ctx, label.replace(">", "").replace(" ", "-") + "-ulf",
               "call.xml", port=e.ulf_port, remote=e.env.target,
               service=phone.user, auth=("ulf", PW["ulf"]),
               keys={"user": "ulf"}, media=ma.addr, hold_ms=2500)
    d, inv, ack = phone.answer(webrtc_answer, timeout=15)
    ok = ctx.check("%s: INVITE reached %s over its WebSocket, the 200 was "
                   "ACKed" % (label, phone.name),
                   d is not None and ack is not None,
                   ulf.tail() if d is None else "no ACK")
    if ok:
        ctx.check("%s: R-URI is the .invalid contact %s" % (
            label, phone.contact), inv.first.split()[1] == phone.contact,
            inv.first)
        ctx.check("%s: Via says %s" % (label, phone.tp),
                  (inv.hdr("via") or "").startswith("SIP/2.0/%s "
                                                    % phone.tp),
                  inv.hdr("via"))
        ctx.check("%s: the offer %s got is WebRTC (UDP/TLS/RTP/SAVPF)"
                  % (label, phone.name), "UDP/TLS/RTP/SAVPF" in inv.body)
        bye = phone.wait_bye(d, timeout=10)
        ctx.check("%s: ulf's BYE reached %s over its WebSocket"
                  % (label, phone.name), bye is not None)
    rc = ulf.wait()
    ctx.check("%s: ulf's sipp (call.xml) exit 0" % label, rc == 0,
              ulf.brief())
    check_hiding(ctx, label, phone, ulf)
    ma.close()


def lost(ctx, e, phone, how, close):
    aor = "%s@%s" % (phone.user, DOMAIN)
    n0 = e.env.sbc.metric("sbc_registrations_active")
    t0 = time.monotonic()
    close()
    ok = gone(e, aor, 5)
    ctx.check("%s: %s: the binding leaves the API and the database within "
              "5 s (%.1f s)" % (phone.tp, how, time.monotonic() - t0), ok,
              (registrations(e, aor), e.env.db.registrations(aor)))
    n1 = e.env.sbc.metric("sbc_registrations_active")
    ctx.check("%s: sbc_registrations_active one less (%s -> %s)"
              % (phone.tp, n0, n1), n0 is not None and n1 == n0 - 1)


# ---- garbage -------------------------------------------------------------------

def alive(e):
    st, _ = e.env.sbc.health()
    return st == 200 and e.env.sbc.running()


def garbage(ctx, e):
    # a registered WS phone whose connection a broken frame ends
    gina = ws_phone(ctx, e, "gina", False)
    if gina:
        gina.conn.ws.send_text("this is not SIP at all\r\n\r\n")
        gina.conn.ws.send_binary(b"\x00\xff" * 40)
        time.sleep(0.3)
        f, r = gina.register()
        ctx.check("WS: non-SIP text and binary frames are dropped; the "
                  "connection still carries a REGISTER (200)",
                  r is not None and r.status == 200, r and r.first)
        lost(ctx, e, gina, "an unmasked client frame (protocol error)",
             lambda: gina.conn.ws.send_frame(ws.OP_TEXT, b"REGISTER",
                                             mask=False))
        ctx.check("WS: the protocol error closed the connection",
                  wait_until(lambda: gina.closed, 3, 0.05), gina.closed)
        gina.close()

    cases = [
        ("reserved opcode 0x3", ws.WebSocket.frame(0x3, b"x")),
        ("RSV bits set", ws.WebSocket.frame(ws.OP_TEXT, b"x", rsv=7)),
        ("a length of 2^62 and 10 bytes",
         ws.WebSocket.frame(ws.OP_BIN, b"0123456789", length=1 << 62)),
        ("a close frame without a code", ws.WebSocket.frame(ws.OP_CLOSE,
                                                            b"")),
        ("a half frame, then EOF", b"\x81"),
    ]
    for what, data in cases:
        try:
            w = ws.WebSocket("127.0.0.1", e.ws_port).connect()
            w.send_raw(data)
            time.sleep(0.2)
            w.abort()
        except (OSError, ws.HandshakeError) as x:
            ctx.note("%s: %s" % (what, x))
        ctx.check("WS garbage (%s): sbc still up" % what, alive(e))

    # upgrades a SIP WebSocket server must refuse or that are not one
    for what, kw in (("no Sec-WebSocket-Protocol", {"protocols": ()}),
                     ("Sec-WebSocket-Protocol: chat",
                      {"protocols": ("chat",)})):
        w = ws.WebSocket("127.0.0.1", e.ws_port, **kw)
        try:
            w.connect()
        except (OSError, ws.HandshakeError):
            pass
        ctx.check("WS upgrade with %s: refused (status %s), sbc up"
                  % (what, w.status), w.status not in (101,) and alive(e),
                  w.headers)
        w.abort()
    so = socket.create_connection(("127.0.0.1", e.ws_port), 3)
    so.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"A" * 20000)
    so.close()
    ctx.check("WS port: a plain HTTP GET with junk: sbc up", alive(e))

    # TLS: bytes that are not SIP (libre waits for more: the connection
    # stays until its accept timer), then a request without
    # Content-Length, which a stream transport must not carry (RFC 3261
    # 18.3): libre closes the connection
    conn = U.StreamConn("127.0.0.1", e.tls_port, U.tls_client_context())
    conn.send(b"\x00\x01GARBAGE GARBAGE\r\nno: sip\r\n\r\n")
    time.sleep(0.2)
    ctx.check("TLS: non-SIP bytes: sbc up", alive(e))
    conn.close()
    conn = U.StreamConn("127.0.0.1", e.tls_port, U.tls_client_context())
    conn.send(b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/TLS h;branch="
              b"z9hG4bKx\r\n\r\n")
    try:
        closed = conn.recv(3) == "never"
    except ws.Closed:
        closed = True
    ctx.check("TLS: a request without Content-Length closes that "
              "connection, sbc up", closed and alive(e))
    conn.close()
    so = socket.create_connection(("127.0.0.1", e.tls_port), 3)
    so.sendall(b"REGISTER sip:example.com SIP/2.0\r\n\r\n")
    time.sleep(0.2)
    so.close()
    ctx.check("TLS port: plain text instead of a handshake: sbc up",
              alive(e))
    # over 64 KiB without an end of headers
    conn = U.StreamConn("127.0.0.1", e.sip_port)
    try:
        conn.send(b"OPTIONS sip:x SIP/2.0\r\nX: " + b"y" * 70000)
    except OSError:
        pass
    conn.close()
    ctx.check("TCP: 70 KB of one header: sbc up", alive(e))


# ---- TCP ---------------------------------------------------------------------

def tcp_phone(ctx, e):
    conn = U.StreamConn("127.0.0.1", e.sip_port)
    tom = U.UA("tom", conn, "tom", PW["tom"], DOMAIN, "TCP",
               "192.168.77.7:5060", "sip:tom@192.168.77.7:5060;"
               "transport=tcp")
    f, r = tom.register()
    if not check_registered(ctx, e, "TCP", tom, f, r, "tcp"):
        return
    lost(ctx, e, tom, "the phone closes its TCP connection", tom.close)


def run(ctx):
    if not skip_without_tools(ctx):
        return
    e = Env()
    made = U.make_cert(ctx.dir)
    if not ctx.check("openssl made a self-signed certificate", made):
        return
    e.pem, e.crt = made
    e.tls_port = free_port(udp=False)
    e.ws_port = free_port(udp=False)
    e.wss_port = free_port(udp=False)
    e.env = RelayEnv(ctx, sip_tls="127.0.0.1:%d" % e.tls_port,
                   sip_ws="127.0.0.1:%d" % e.ws_port,
                   sip_wss="127.0.0.1:%d" % e.wss_port, tls_cert=e.pem)
    if not e.env.start():
        return
    e.webrtc = relay_does_webrtc(e)
    e.sip_port = e.env.sbc.sip_port
    for u, pw in PW.items():
        e.env.db.subscriber(u, pw)

    # wendy connects first: her WebSocket must outlive libre 1.1.0's
    # 32 s accept timer (the TLS calls run meanwhile)
    t_ws = time.monotonic()
    wendy = ws_phone(ctx, e, "wendy", False)

    e.ulf_port = free_udp_port("127.0.0.1")
    r = register(ctx, "reg-ulf", e.env, "ulf", PW["ulf"], port=e.ulf_port)
    ctx.check("ulf registers over UDP from 127.0.0.1:%d (sipp)"
              % e.ulf_port, r.rc == 0, r.brief())

    tina = tls_phone(ctx, e)
    if tina:
        udp_to_tls(ctx, e, tina)
        phone_to_udp(ctx, e, tina, "uas-answer.xml", "TLS>UDP 1", True)
        phone_to_udp(ctx, e, tina, "uas-answer-bye.xml", "TLS>UDP 2", False)
        lost(ctx, e, tina, "the phone closes its TLS connection",
             tina.close)

    if wendy:
        left = LIBRE_ACCEPT_TIMER + 3 - (time.monotonic() - t_ws)
        if left > 0:
            time.sleep(left)
        ctx.check("WS: the connection is still up %d s after its handshake"
                  % (time.monotonic() - t_ws), not wendy.closed,
                  wendy.closed)
        phone_to_udp(ctx, e, wendy, "uas-answer-bye.xml", "WS>UDP", False)
        udp_to_ws(ctx, e, wendy, "UDP>WS")
        lost(ctx, e, wendy, "the browser closes its WebSocket (close "
             "handshake)", wendy.close)

    wes = ws_phone(ctx, e, "wes", True)
    if wes:
        phone_to_udp(ctx, e, wes, "uas-answer.xml", "WSS>UDP", True)
        udp_to_ws(ctx, e, wes, "UDP>WSS")
        lost(ctx, e, wes, "the TCP connection drops without a closing "
             "handshake", lambda: (wes.conn.ws.abort(), wes.close()))

    tcp_phone(ctx, e)
    garbage(ctx, e)

    ctx.check("only ulf (UDP) is still registered",
              [r["aor"] for r in registrations(e)] == ["ulf@" + DOMAIN],
              registrations(e))
    want = 7 if e.webrtc else 5
    rows = e.env.db.wait_cdrs(want)
    ctx.check("%d CDRs, all internal and answered (200)" % want,
              len(rows) == want and all(r["direction"] == "internal" and
                                     r["result"] == 200 for r in rows),
              [(r["direction"], r["result"]) for r in rows])
    rc, _ = e.env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = e.env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

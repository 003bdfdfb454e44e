# tests/integration/sip-lifecycle/expect.py  see README.md in this directory
#
# A live call through the sbc with the media backend MEDIA_RELAY names
# (mediad by default, Debian's rtpengine with MEDIA_RELAY=rtpengine):
# RTP both ways, then SIGTERM with drain_timeout: a new INVITE gets 503
# while the call goes on, and at the timeout both legs get a BYE, the
# CDR is written and sbc exits 0.
import json
import os
import signal
import socket
import time

from media import relay_kind, start_relay
from sbctest import Sbc, free_port, wait_until
from siptest import (DOMAIN, Db, MediaEp, Sipp, first_line, find, register,
                     rtp_both_ways, sdp_addr, sdp_of, skip_without_tools,
                     free_udp_port)

PW = {"alice": "alice-lc-secret", "bob": "bob-lc-secret"}
DRAIN_S = 4


class Env:
    def __init__(self, sbc):
        self.sbc = sbc

    @property
    def target(self):
        return "127.0.0.1:%d" % self.sbc.sip_port


def stray_invite(sip_port):
    """An INVITE from a fresh socket; returns the first final status line
    (or None after 3 s)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    lport = s.getsockname()[1]
    msg = ("INVITE sip:bob@%s SIP/2.0\r\n"
           "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-lc-%d\r\n"
           "From: <sip:alice@%s>;tag=lc1\r\n"
           "To: <sip:bob@%s>\r\n"
           "Call-ID: lifecycle-%d@127.0.0.1\r\n"
           "CSeq: 1 INVITE\r\n"
           "Contact: <sip:alice@127.0.0.1:%d>\r\n"
           "Max-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n"
           % (DOMAIN, lport, lport, DOMAIN, DOMAIN, lport, lport))
    deadline = time.monotonic() + 3
    try:
        s.sendto(msg.encode(), ("127.0.0.1", sip_port))
        while time.monotonic() < deadline:
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                continue
            line = data.split(b"\r\n", 1)[0].decode(errors="replace")
            if not line.startswith("SIP/2.0 1"):
                return line
    finally:
        s.close()
    return None


def run(ctx):
    if not skip_without_tools(ctx):
        return
    kind = relay_kind()
    port_min = free_port(even=True)
    relay = start_relay(ctx, port_min=port_min, port_max=port_min + 1000)
    if not relay:
        return
    sbc = Sbc(ctx, relay.ng_port, domains=DOMAIN, drain_timeout=DRAIN_S)
    sbc.start()
    if not ctx.check("sbc ready with %s as its media backend" % kind,
                     sbc.wait_ready()):
        return

    def media_up():
        st, h = sbc.health()
        return st == 200 and h.get("mediad") == "up"
    if not ctx.check("sbc sees its media backend up (NG pings answered)",
                     wait_until(media_up, 15, 0.1)):
        return
    env = Env(sbc)
    db = Db(os.path.join(ctx.dir, "sbc.db"))
    for user, pw in PW.items():
        db.subscriber(user, pw)

    ports = {u: free_udp_port("127.0.0.1") for u in PW}
    for user in PW:
        r = register(ctx, "reg-" + user, env, user, PW[user],
                     port=ports[user])
        ctx.check("%s registers (200)" % user, r.rc == 0, r.brief())

    ma, mb = MediaEp("alice"), MediaEp("bob")
    bob = Sipp(ctx, "lc-bob", "uas-answer.xml", port=ports["bob"],
               keys={"user": "bob"}, media=mb.addr, timeout=40)
    if not ctx.check("bob's sipp listens", bob.wait_bound(), bob.tail()):
        return
    alice = Sipp(ctx, "lc-alice", "call.xml", port=ports["alice"],
                 remote=env.target, service="bob",
                 auth=("alice", PW["alice"]), keys={"user": "alice"},
                 media=ma.addr, hold_ms=60000, timeout=40)

    ok200 = alice.wait_received("SIP/2.0 200", method="INVITE", timeout=15)
    inv = bob.wait_received("INVITE", timeout=5)
    if not ctx.check("the call is answered (alice got 200, bob the INVITE)",
                     ok200 and inv, (alice.brief(), bob.brief())):
        return
    a_sdp = sdp_addr(sdp_of(ok200[-1]))
    b_sdp = sdp_addr(sdp_of(inv[-1]))
    ctx.check("both sides see the media backend's address, not each "
              "other's ports", a_sdp and b_sdp and
              a_sdp[1] not in (ma.addr[1], mb.addr[1]) and
              b_sdp[1] not in (ma.addr[1], mb.addr[1]), (a_sdp, b_sdp))
    if a_sdp and b_sdp:
        rtp_both_ways(ctx, "through %s" % kind, ma, (a_sdp[0], a_sdp[1]),
                      mb, (b_sdp[0], b_sdp[1]))

    st, _, raw = sbc.http("GET", "/api/v1/calls", token=sbc.token)
    try:
        body = json.loads(raw)
    except ValueError:
        body = raw
    ctx.check("GET /api/v1/calls lists the live call", st == 200 and
              isinstance(body, list) and len(body) == 1, (st, body))

    # drain: new calls refused, the live one goes on until the timeout
    t0 = time.monotonic()
    sbc.proc.send_signal(signal.SIGTERM)

    def draining():
        with open(sbc.logpath, errors="replace") as f:
            return "draining" in f.read()
    ctx.check("sbc logs that it drains", wait_until(draining, 5, 0.05),
              sbc.tail())
    line = stray_invite(sbc.sip_port)
    ctx.check("during the drain a new INVITE gets 503", line is not None
              and line.startswith("SIP/2.0 503"), line)
    time.sleep(1.0)
    ctx.check("during the drain the live call is not hung up",
              not find(bob.received(), "BYE") and
              not find(alice.received(), "BYE") and sbc.running(),
              [first_line(m) for m in bob.received()])

    ok = wait_until(lambda: not sbc.running(), DRAIN_S + 8, 0.1)
    dt = time.monotonic() - t0
    rc = sbc.proc.returncode if ok else None
    ctx.check("sbc exits 0 after drain_timeout (%d s): took %.1f s"
              % (DRAIN_S, dt), ok and rc == 0 and dt >= DRAIN_S - 0.5,
              (rc, dt))
    ctx.check("at the drain timeout bob got a BYE from the sbc",
              bool(find(bob.received(), "BYE")),
              [first_line(m) for m in bob.received()])
    ctx.check("at the drain timeout alice got a BYE from the sbc",
              bool(find(alice.received(), "BYE")),
              [first_line(m) for m in alice.received()])
    bob.stop()
    alice.stop()
    ma.close()
    mb.close()

    rows = db.cdrs()
    ctx.check("one CDR, answered, ended by the sbc", len(rows) == 1 and
              rows[0]["result"] == 200 and rows[0]["hangup_side"] == "sbc"
              and rows[0]["answered_at"], rows)
    rc, _ = relay.stop(signal.SIGTERM)
    ctx.check("%s SIGTERM: exit 0" % kind, rc == 0, rc)

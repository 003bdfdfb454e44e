# tests/integration/sip-trunk/expect.py  see README.md in this directory
#
# Phones on 127.0.0.1, carriers on 127.0.0.2 (trunk1) and 127.0.0.3
# (trunk2, trunk3), a stranger on 127.0.0.4: all sipp, all known to the
# sbc only through the rows written into its database.
import select
import signal
import socket
import time

from siptest import (DOMAIN, Sipp, SipEnv, MediaEp, cdr_summary,
                     check_hiding, check_no_x_headers, check_sdp, find,
                     first_line, free_udp_port, header,
                     register, rtp_both_ways, skip_without_tools)

T1, T2, STRANGER = "127.0.0.2", "127.0.0.3", "127.0.0.4"
PW = "alice-secret-1"
DID = "4930100"
CARRIER = ("carrier-user", "carrier-pass-9")


def finish(ctx, label, uac, uases):
    rc = uac.wait()
    ctx.check("%s: %s exit 0" % (label, uac.name), rc == 0, uac.brief())
    for u in uases:
        rc = u.finish()
        ok, bad = u.counts()
        ctx.check("%s: %s exit 0, a call done, none failed"
                  % (label, u.name), rc == 0 and bad == 0 and (ok or 0) >= 1,
                  u.brief())


def outbound_failover(ctx, env, pa, tp):
    label = "outbound 0044123"
    ma = MediaEp("alice")
    m1, m2 = MediaEp("trunk1", T1), MediaEp("trunk2", T2)
    t1 = Sipp(ctx, "out-trunk1", "uas-503.xml", ip=T1, port=tp[T1],
              keys={"user": "carrier"}, media=m1.addr)
    t2 = Sipp(ctx, "out-trunk2", "uas-answer.xml", ip=T2, port=tp[T2],
              keys={"user": "carrier"}, media=m2.addr)
    if not ctx.check("%s: both trunks' sipps listen" % label,
                     t1.wait_bound() and t2.wait_bound(),
                     t1.tail() + t2.tail()):
        return
    alice = Sipp(ctx, "out-alice", "call.xml", port=pa, remote=env.target,
                 service="0044123", auth=("alice", PW),
                 keys={"user": "alice"}, media=ma.addr, hold_ms=3000)
    ack = t2.wait_received("ACK", timeout=15)
    ok = alice.wait_received("SIP/2.0 200", method="INVITE", timeout=2)
    inv2 = t2.wait_received("INVITE ", timeout=1)
    if ctx.check("%s: call up through trunk2 (alice got 200, trunk2 got "
                 "the ACK)" % label, ack and ok and inv2):
        a = check_sdp(ctx, env, label + ": 200 alice got", ok[0], m2.port)
        b = check_sdp(ctx, env, label + ": INVITE trunk2 got", inv2[0],
                      ma.port)
        if a and b:
            rtp_both_ways(ctx, label, ma, a[:2], m2, b[:2])
    finish(ctx, label, alice, [t1, t2])
    for m in (ma, m1, m2):
        m.close()

    inv1 = find(t1.received(), "INVITE ")
    ctx.check("%s: trunk1 (first in the route) got the INVITE, for the "
              "number 0044123" % label, inv1 and "sip:0044123@"
              in first_line(inv1[0]),
              [first_line(m) for m in t1.received()])
    ctx.check("%s: trunk1's 503 was ACKed" % label,
              find(t1.received(), "ACK "))
    inv2 = find(t2.received(), "INVITE ")
    ctx.check("%s: after the 503, trunk2 got the INVITE" % label,
              inv2 and "sip:0044123@" in first_line(inv2[0]))
    got_a = alice.received()
    ctx.check("%s: alice saw no 503, one 200" % label,
              not find(got_a, "SIP/2.0 503")
              and len(find(got_a, "SIP/2.0 200", "INVITE")) == 1,
              [first_line(m) for m in got_a])
    for t in (t1, t2):
        check_no_x_headers(ctx, t)
        ctx.check("%s: no Proxy-Authorization of alice's reaches %s"
                  % (label, t.name), not [
                      m for m in t.received()
                      if header(m, "Proxy-Authorization")])
        check_hiding(ctx, label, t, alice)
    check_hiding(ctx, label, alice, t2, extra=(T1, T2))
    check_hiding(ctx, label, alice, t1, extra=(T1, T2))


def outbound_auth(ctx, env, pa, port):
    """trunk3 (username/password) challenges with 401; the sbc answers
    it with the trunk's credentials."""
    label = "outbound 0033123 (trunk asks for credentials)"
    ma, m3 = MediaEp("alice"), MediaEp("trunk3", T2)
    t3 = Sipp(ctx, "auth-trunk3", "uas-auth.xml", ip=T2, port=port,
              keys={"user": "carrier", "realm": "carrier.test",
                    "authuser": CARRIER[0], "authpass": CARRIER[1]},
              media=m3.addr)
    if not ctx.check("%s: trunk3's sipp listens" % label, t3.wait_bound(),
                     t3.tail()):
        return
    alice = Sipp(ctx, "auth-alice", "call.xml", port=pa, remote=env.target,
                 service="0033123", auth=("alice", PW),
                 keys={"user": "alice"}, media=ma.addr, hold_ms=500)
    finish(ctx, label, alice, [t3])
    ma.close()
    m3.close()
    invs = find(t3.received(), "INVITE ")
    pa3 = [header(m, "Authorization") for m in invs[1:2]]
    ctx.check("%s: trunk3 got the INVITE again with its credentials "
              "(username=\"%s\", realm carrier.test)" % (label, CARRIER[0]),
              len(invs) == 2 and pa3[0] and 'username="%s"' % CARRIER[0]
              in pa3[0] and "carrier.test" in pa3[0], pa3)
    ctx.check("%s: trunk3 answered 200 (the digest verified)" % label,
              [m for m in t3.sent() if m.startswith("SIP/2.0 200")
               and "INVITE" in (header(m, "CSeq") or "")])
    ctx.check("%s: alice saw nothing of the carrier's challenge (no 401, "
              "no realm carrier.test)" % label,
              not find(alice.received(), "SIP/2.0 401") and all(
                  "carrier.test" not in m for m in alice.received()))
    check_no_x_headers(ctx, t3)
    check_hiding(ctx, label, t3, alice)
    check_hiding(ctx, label, alice, t3, extra=(T2,))


def inbound_did(ctx, env, pa, pa2):
    label = "inbound DID %s" % DID
    ma1, ma2, mt = MediaEp("alice1"), MediaEp("alice2"), MediaEp("t1", T1)
    a1 = Sipp(ctx, "in-alice1", "uas-answer.xml", port=pa,
              keys={"user": "alice"}, media=ma1.addr)
    a2 = Sipp(ctx, "in-alice2", "uas-ring.xml", port=pa2,
              keys={"user": "alice"}, media=ma2.addr)
    if not ctx.check("%s: alice's two phones listen" % label,
                     a1.wait_bound() and a2.wait_bound()):
        return
    tr = Sipp(ctx, "in-trunk1", "trunk-call.xml", ip=T1, remote=env.target,
              service=DID, keys={"cli": "4940555123"}, media=mt.addr,
              hold_ms=3000)
    ack = a1.wait_received("ACK", timeout=15)
    ok = tr.wait_received("SIP/2.0 200", method="INVITE", timeout=2)
    inv = a1.wait_received("INVITE ", timeout=1)
    if ctx.check("%s: call up (trunk got 200, alice's first phone the "
                 "ACK)" % label, ack and ok and inv):
        a = check_sdp(ctx, env, label + ": 200 the trunk got", ok[0],
                      ma1.port)
        b = check_sdp(ctx, env, label + ": INVITE alice got", inv[0],
                      mt.port)
        if a and b:
            rtp_both_ways(ctx, label, mt, a[:2], ma1, b[:2])
    finish(ctx, label, tr, [a1, a2])
    for m in (ma1, ma2, mt):
        m.close()

    for p in (a1, a2):
        inv = find(p.received(), "INVITE ")
        if not ctx.check("%s: %s got the INVITE (parallel fork)"
                         % (label, p.name), inv):
            continue
        ctx.check("%s: %s: X-Inbound-Trunk: trunk1, X-Original-DID: %s"
                  % (label, p.name, DID),
                  header(inv[0], "X-Inbound-Trunk") == "trunk1"
                  and header(inv[0], "X-Original-DID") == DID,
                  (header(inv[0], "X-Inbound-Trunk"),
                   header(inv[0], "X-Original-DID")))
        check_hiding(ctx, label, p, tr, extra=(T1,))
        check_hiding(ctx, label, tr, p)
    ctx.check("%s: the ringing phone got CANCEL once the other answered"
              % label, find(a2.received(), "CANCEL "))
    ctx.check("%s: the trunk got exactly one 200" % label,
              len(find(tr.received(), "SIP/2.0 200", "INVITE")) == 1)
    check_no_x_headers(ctx, tr)


def unknown_did(ctx, env):
    tr = Sipp(ctx, "did404-trunk1", "trunk-404.xml", ip=T1,
              remote=env.target, service="4930999",
              keys={"cli": "4940555123"}, media=(T1, 40000))
    rc = tr.wait()
    ctx.check("unknown DID 4930999 from trunk1: 404 (ACKed)", rc == 0,
              tr.brief())
    check_no_x_headers(ctx, tr)


class Listener:
    """A plain UDP socket on a phone's or trunk's port: counts INVITEs."""

    def __init__(self, ip, port):
        self.so = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.so.bind((ip, port))
        self.so.setblocking(False)
        self.name = "%s:%d" % (ip, port)

    def invites(self, timeout):
        n = 0
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            rd, _, _ = select.select([self.so], [], [],
                                     max(0, end - time.monotonic()))
            if not rd:
                continue
            try:
                d, _ = self.so.recvfrom(65535)
            except BlockingIOError:
                continue
            if d.startswith(b"INVITE "):
                n += 1
        self.so.close()
        return n


def stranger(ctx, env, listen):
    label = "INVITE to DID %s from %s (no trunk)" % (DID, STRANGER)
    ls = [Listener(ip, p) for ip, p in listen]
    st = Sipp(ctx, "stranger", "stranger.xml", ip=STRANGER,
              remote=env.target, service=DID, auth=("alice", "guessed"),
              keys={"user": "alice"}, media=(STRANGER, 40000))
    rc = st.wait()
    got = st.received()
    ctx.check("%s: challenged (407), then 403 for bad credentials, both "
              "ACKed" % label, rc == 0 and find(got, "SIP/2.0 407")
              and find(got, "SIP/2.0 403"),
              [first_line(m) for m in got] or st.brief())
    # an open relay would have forwarded before answering; 0.5 s more
    # for anything late
    n = {lst.name: lst.invites(0.5) for lst in ls}
    ctx.check("%s: no INVITE reached alice's phones or the trunks" % label,
              not any(n.values()), n)


def run(ctx):
    if not skip_without_tools(ctx, ips=(T1, T2, STRANGER)):
        return
    env = SipEnv(ctx)
    if not env.start():
        return
    db = env.db
    tp = {T1: free_udp_port(T1), T2: free_udp_port(T2)}
    t3_port = free_udp_port(T2)
    db.subscriber("alice", PW)
    db.trunk("trunk1", T1, tp[T1])
    db.trunk("trunk2", T2, tp[T2])
    db.trunk("trunk3", T2, t3_port, username=CARRIER[0],
             password=CARRIER[1])
    db.route("0044", ["trunk1", "trunk2"])
    db.route("0033", ["trunk3"])
    db.did(DID, "alice@" + DOMAIN)
    pa, pa2 = free_udp_port("127.0.0.1"), free_udp_port("127.0.0.1")
    for i, p in enumerate((pa, pa2), 1):
        r = register(ctx, "reg-alice%d" % i, env, "alice", PW, port=p)
        ctx.check("alice's phone %d registers from 127.0.0.1:%d" % (i, p),
                  r.rc == 0, r.brief())

    outbound_failover(ctx, env, pa, tp)
    outbound_auth(ctx, env, pa, t3_port)
    inbound_did(ctx, env, pa, pa2)
    unknown_did(ctx, env)
    stranger(ctx, env, [("127.0.0.1", pa), ("127.0.0.1", pa2),
                        (T1, tp[T1]), (T2, tp[T2])])

    rows = env.db.wait_cdrs(3)
    got = cdr_summary(rows)
    ctx.note("cdrs (direction, result, hangup_side, trunk): %s" % got)
    ctx.check("CDR: outbound via trunk2, 200, caller hung up",
              ("outbound", 200, "caller", "trunk2") in got, got)
    ctx.check("CDR: outbound via trunk3, 200",
              [r for r in got if r[0] == "outbound" and r[3] == "trunk3"
               and r[1] == 200], got)
    ctx.check("CDR: inbound from trunk1, 200, caller hung up",
              ("inbound", 200, "caller", "trunk1") in got, got)

    rc, _ = env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

# tests/integration/sip-media-profile/expect.py  see README.md here
#
# A plain-RTP phone (alice, 127.0.0.1) calls out through trunks whose
# `media` field differs: "secure" (srtp-sdes, 127.0.0.3) must get an
# RTP/SAVP offer with an a=crypto line and exchange SRTP with mediad
# while alice keeps plain RTP; "plain" (rtp, 127.0.0.2) answers 503
# first in the failover route, so mediad's offer is made again for the
# secure trunk's profile before its INVITE leaves.
import base64
import os
import signal

from media import RtpStream
from siptest import (Sipp, SipEnv, MediaEp, cdr_summary, check_sdp, find,
                     free_udp_port, register, sdp_of, skip_without_tools)
from srtp import SrtpContext

PLAIN, SECURE = "127.0.0.2", "127.0.0.3"
PW = "alice-secret-7"
SUITE = "AES_CM_128_HMAC_SHA1_80"


def crypto_of(msg):
    """(suite, key-params) of the first a=crypto line of msg's SDP."""
    s = sdp_of(msg)
    for line in (s.text if s else "").splitlines():
        if line.startswith("a=crypto:"):
            f = line.split()
            if len(f) >= 3:
                return f[1], f[2]
    return None


def proto_of(msg):
    s = sdp_of(msg)
    for line in (s.text if s else "").splitlines():
        if line.startswith("m=audio "):
            f = line.split()
            return f[2] if len(f) > 2 else None
    return None


def srtp_both_ways(ctx, label, ma, a_dst, mt, t_dst, tx, rx, n=50):
    """alice (plain) and the trunk (SRTP: <tx> protects what it sends,
    <rx> is mediad's key toward it) exchange <n> packets each; each side
    checks what arrives against what the other sent."""
    sa, st = RtpStream(0), RtpStream(0)
    pa = [sa.packet(bytes([0x55]) * 160) for _ in range(n)]
    pt = [st.packet(bytes([0xd5]) * 160) for _ in range(n)]
    for i in range(n):
        ma.rtp.sendto(pa[i], a_dst)
        mt.rtp.sendto(tx.protect(pt[i]), t_dst)
    got_t = mt.drain(2.0, n)
    got_a = ma.drain(2.0, n)
    plain_t = []
    bad = 0
    for d, _ in got_t:
        try:
            plain_t.append(rx.unprotect(d))
        except Exception:
            bad += 1
    ctx.check("%s: alice's plain RTP reaches the trunk as SRTP that "
              "decrypts with mediad's key: %d/%d" % (label, len(plain_t),
                                                       n),
              bad == 0 and sorted(plain_t) == sorted(pa),
              (len(got_t), bad))
    ctx.check("%s: what reached the trunk is not plain RTP (encrypted "
              "payload)" % label,
              got_t and all(d[12:172] != pa[0][12:] for d, _ in got_t))
    ctx.check("%s: the trunk's SRTP reaches alice decrypted: %d/%d"
              % (label, len(got_a), n),
              sorted(d for d, _ in got_a) == sorted(pt), len(got_a))


def secure_failover(ctx, env, pa, tp):
    label = "outbound 0049 (plain trunk 503, then srtp-sdes trunk)"
    key = os.urandom(30)
    ma = MediaEp("alice")
    m1, m2 = MediaEp("plain", PLAIN), MediaEp("secure", SECURE)
    t1 = Sipp(ctx, "prof-plain", "uas-503.xml", ip=PLAIN, port=tp[PLAIN],
              keys={"user": "carrier"}, media=m1.addr)
    t2 = Sipp(ctx, "prof-secure", "uas-answer-srtp.xml", ip=SECURE,
              port=tp[SECURE], media=m2.addr,
              keys={"user": "carrier",
                    "crypto": base64.b64encode(key).decode()})
    if not ctx.check("%s: both trunks' sipps listen" % label,
                     t1.wait_bound() and t2.wait_bound(),
                     t1.tail() + t2.tail()):
        return
    alice = Sipp(ctx, "prof-alice", "call.xml", port=pa, remote=env.target,
                 service="0049301", auth=("alice", PW),
                 keys={"user": "alice"}, media=ma.addr, hold_ms=3000)
    ack = t2.wait_received("ACK", timeout=15)
    ok = alice.wait_received("SIP/2.0 200", method="INVITE", timeout=2)
    inv1 = find(t1.received(), "INVITE ")
    inv2 = t2.wait_received("INVITE ", timeout=1)
    if ctx.check("%s: call up through the secure trunk" % label,
                 ack and ok and inv2 and inv1):
        ctx.check("%s: the plain trunk got RTP/AVP, no a=crypto" % label,
                  proto_of(inv1[0]) == "RTP/AVP"
                  and crypto_of(inv1[0]) is None, proto_of(inv1[0]))
        ctx.check("%s: the secure trunk got RTP/SAVP with a=crypto %s"
                  % (label, SUITE), proto_of(inv2[0]) == "RTP/SAVP"
                  and crypto_of(inv2[0])
                  and crypto_of(inv2[0])[0] in (SUITE,
                                                "AES_CM_128_HMAC_SHA1_32"),
                  (proto_of(inv2[0]), crypto_of(inv2[0])))
        ctx.check("%s: alice's 200 is plain RTP/AVP, no a=crypto" % label,
                  proto_of(ok[0]) == "RTP/AVP" and crypto_of(ok[0]) is None,
                  proto_of(ok[0]))
        a = check_sdp(ctx, env, label + ": 200 alice got", ok[0], m2.port)
        b = check_sdp(ctx, env, label + ": INVITE the trunk got", inv2[0],
                      ma.port)
        cr = crypto_of(inv2[0])
        if a and b and cr:
            rx = SrtpContext.from_sdes(cr[0], cr[1])
            tx = SrtpContext(SUITE, key)
            srtp_both_ways(ctx, label, ma, a[:2], m2, b[:2], tx, rx)
    rc = alice.wait()
    ctx.check("%s: alice exit 0" % label, rc == 0, alice.brief())
    for t in (t1, t2):
        rc = t.finish()
        ok_, bad = t.counts()
        ctx.check("%s: %s exit 0, none failed" % (label, t.name),
                  rc == 0 and bad == 0, t.brief())
    for m in (ma, m1, m2):
        m.close()


def plain_trunk(ctx, env, pa, port):
    """A route to the plain trunk alone: RTP/AVP all the way (the trunk's
    profile is said to mediad, nothing changes for a plain call)."""
    label = "outbound 0044 (rtp trunk)"
    ma, mt = MediaEp("alice"), MediaEp("plain", PLAIN)
    t = Sipp(ctx, "prof-plain2", "uas-answer.xml", ip=PLAIN, port=port,
             keys={"user": "carrier"}, media=mt.addr)
    if not ctx.check("%s: trunk's sipp listens" % label, t.wait_bound(),
                     t.tail()):
        return
    alice = Sipp(ctx, "prof-alice2", "call.xml", port=pa, remote=env.target,
                 service="0044301", auth=("alice", PW),
                 keys={"user": "alice"}, media=ma.addr, hold_ms=500)
    rc = alice.wait()
    ctx.check("%s: alice exit 0 (call done)" % label, rc == 0,
              alice.brief())
    t.finish()
    inv = find(t.received(), "INVITE ")
    ctx.check("%s: the trunk got RTP/AVP without a=crypto" % label,
              inv and proto_of(inv[0]) == "RTP/AVP"
              and crypto_of(inv[0]) is None,
              proto_of(inv[0]) if inv else "no INVITE")
    ma.close()
    mt.close()


def run(ctx):
    if not skip_without_tools(ctx, ips=(PLAIN, SECURE)):
        return
    env = SipEnv(ctx)
    if not env.start():
        return
    db = env.db
    tp = {PLAIN: free_udp_port(PLAIN), SECURE: free_udp_port(SECURE)}
    plain2 = free_udp_port(PLAIN)
    db.subscriber("alice", PW)
    db.trunk("plain", PLAIN, tp[PLAIN])
    db.trunk("plain2", PLAIN, plain2)
    db.trunk("secure", SECURE, tp[SECURE])
    db.exec("UPDATE trunks SET media = 'srtp-sdes' WHERE name = 'secure'")
    db.route("0049", ["plain", "secure"])
    db.route("0044", ["plain2"])
    pa = free_udp_port("127.0.0.1")
    r = register(ctx, "prof-reg-alice", env, "alice", PW, port=pa)
    ctx.check("alice registers", r.rc == 0, r.brief())

    secure_failover(ctx, env, pa, tp)
    plain_trunk(ctx, env, pa, plain2)

    rows = env.db.wait_cdrs(2)
    got = cdr_summary(rows)
    ctx.check("CDR: outbound via the secure trunk, 200",
              [r for r in got if r[0] == "outbound" and r[1] == 200
               and r[3] == "secure"], got)

    rc, _ = env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

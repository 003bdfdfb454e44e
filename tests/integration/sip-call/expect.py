# tests/integration/sip-call/expect.py  see README.md in this directory
#
# alice and bob are sipp phones on 127.0.0.1 registered with the sbc;
# alice calls bob four times: answered with RTP both ways and BYE from
# bob, CANCEL before the answer, 486, and hold/resume by re-INVITE.
import signal

from siptest import (Sipp, SipEnv, MediaEp, check_hiding, check_sdp,
                     cdr_summary, find, first_line, header, headers, param,
                     register, rtp_both_ways,
                     skip_without_tools, free_udp_port)

PW = {"alice": "alice-secret-1", "bob": "bob-secret-2"}


def call(ctx, env, label, uac_xml, uas_xml, ports, uac_hold=None,
         uas_hold=None, during=None):
    """One call alice -> bob: bob's sipp (server) on his registered
    port, then alice's; <during>(alice, bob, ma, mb) runs while it is
    up. Returns (alice, bob, ma, mb) with both sipps finished."""
    ma, mb = MediaEp("alice"), MediaEp("bob")
    bob = Sipp(ctx, label + "-bob", uas_xml, port=ports["bob"],
               keys={"user": "bob"}, media=mb.addr,
               hold_ms=uas_hold)
    if not ctx.check("%s: bob's sipp listens on 127.0.0.1:%d"
                     % (label, ports["bob"]), bob.wait_bound(), bob.tail()):
        return None
    alice = Sipp(ctx, label + "-alice", uac_xml, port=ports["alice"],
                 remote=env.target, service="bob",
                 auth=("alice", PW["alice"]), keys={"user": "alice"},
                 media=ma.addr, hold_ms=uac_hold)
    if during:
        during(alice, bob, ma, mb)
    rc_a = alice.wait()
    rc_b = bob.finish()
    ctx.check("%s: alice's sipp (%s) exit 0" % (label, uac_xml), rc_a == 0,
              alice.brief())
    ok_b, bad_b = bob.counts()
    ctx.check("%s: bob's sipp (%s) exit 0, one call done, none failed"
              % (label, uas_xml), rc_b == 0 and bad_b == 0
              and (ok_b or 0) >= 1, bob.brief())
    ma.close()
    mb.close()
    return alice, bob, ma, mb


def check_auth_and_legs(ctx, label, alice, bob):
    """The 407 round, the new B leg, 100 Trying, hiding both ways."""
    got_a = alice.received()
    p407 = find(got_a, "SIP/2.0 407")
    ctx.check("%s: alice's first INVITE got one 407 (ACK matched, no "
              "retransmission)" % label, len(p407) == 1,
              [first_line(m) for m in got_a])
    if p407:
        pa = headers(p407[0], "Proxy-Authenticate")
        ctx.check("%s: 407 offers MD5 first%s" % (
            label, ", SHA-256 second" if len(pa) > 1 else ""),
            pa and "sha-256" not in pa[0].lower() and (
                len(pa) < 2 or "sha-256" in pa[1].lower()), pa)
    t100 = [m for m in find(got_a, "SIP/2.0 100")
            if (header(m, "CSeq") or "").startswith("2 ")]
    ctx.check("%s: alice got 100 Trying for the authenticated INVITE"
              % label, len(t100) >= 1)
    inv_b = find(bob.received(), "INVITE ")
    if not ctx.check("%s: bob received the INVITE" % label, inv_b):
        return None
    inv_b = inv_b[0]
    inv_a = [m for m in alice.sent() if m.startswith("INVITE ")][-1]
    ctx.check("%s: bob's leg has its own Call-ID and From tag" % label,
              header(inv_b, "Call-ID") != header(inv_a, "Call-ID")
              and param(header(inv_b, "From"), "tag")
              != param(header(inv_a, "From"), "tag"),
              (header(inv_b, "Call-ID"), header(inv_b, "From")))
    ctx.check("%s: INVITE to bob's registered contact "
              "(sip:bob@127.0.0.1:%d)" % (label, bob.port),
              first_line(inv_b).split()[1].startswith(
                  "sip:bob@127.0.0.1:%d" % bob.port), first_line(inv_b))
    ctx.check("%s: bob's INVITE carries X-Internal-Call" % label,
              header(inv_b, "X-Internal-Call") is not None)
    ctx.check("%s: no Proxy-Authorization reaches bob" % label,
              header(inv_b, "Proxy-Authorization") is None)
    check_hiding(ctx, label, bob, alice)
    check_hiding(ctx, label, alice, bob)
    return inv_b


def answered_call(ctx, env, ports):
    label = "call 1 (answered, RTP, BYE from bob)"
    st = {}

    def during(alice, bob, ma, mb):
        ack = bob.wait_received("ACK", timeout=15)
        ok = alice.wait_received("SIP/2.0 200", method="INVITE", timeout=5)
        inv = bob.wait_received("INVITE ", timeout=1)
        if not ctx.check("call 1: up (alice got 200, bob got ACK)",
                         ack and ok and inv):
            return
        a = check_sdp(ctx, env, "call 1: 200 alice got", ok[0], mb.port)
        b = check_sdp(ctx, env, "call 1: INVITE bob got", inv[0], ma.port)
        if a and b:
            ctx.check("call 1: the two sides got different mediad ports",
                      a[1] != b[1], (a, b))
            rtp_both_ways(ctx, "call 1", ma, a[:2], mb, b[:2])
        st["active"] = env.sbc.metric("sbc_calls_active",
                                      {"direction": "internal"})

    r = call(ctx, env, "call1", "call-callee-bye.xml", "uas-answer-bye.xml",
             ports, uas_hold=4000, during=during)
    if not r:
        return
    alice, bob, _, _ = r
    check_auth_and_legs(ctx, label, alice, bob)
    ctx.check("call 1: alice got 180 relayed", find(alice.received(),
                                                    "SIP/2.0 180"))
    ctx.check("call 1: bob's BYE reached alice as a BYE",
              find(alice.received(), "BYE "))
    ctx.check("call 1: sbc_calls_active{direction=internal} was 1 during "
              "the call", st.get("active") == 1, st.get("active"))


def cancelled_call(ctx, env, ports):
    label = "call 2 (CANCEL before answer)"
    r = call(ctx, env, "call2", "call-cancel.xml", "uas-ring.xml", ports)
    if not r:
        return
    alice, bob, _, _ = r
    check_auth_and_legs(ctx, label, alice, bob)
    got_a = alice.received()
    ctx.check("call 2: alice got 200 for her CANCEL",
              find(got_a, "SIP/2.0 200", "CANCEL"))
    ctx.check("call 2: alice got one 487 (her ACK matched)",
              len(find(got_a, "SIP/2.0 487")) == 1,
              [first_line(m) for m in got_a])
    ctx.check("call 2: bob got a CANCEL and the ACK of his 487",
              find(bob.received(), "CANCEL ")
              and find(bob.received(), "ACK "))


def busy_call(ctx, env, ports):
    label = "call 3 (486 busy)"
    r = call(ctx, env, "call3", "call-486.xml", "uas-486.xml", ports)
    if not r:
        return
    alice, bob, _, _ = r
    check_auth_and_legs(ctx, label, alice, bob)
    ctx.check("call 3: bob's 486 reached alice as one 486",
              len(find(alice.received(), "SIP/2.0 486")) == 1)
    ctx.check("call 3: bob got the ACK of his 486",
              find(bob.received(), "ACK "))


def hold_call(ctx, env, ports):
    label = "call 4 (hold/resume)"
    r = call(ctx, env, "call4", "call-hold.xml", "uas-hold.xml", ports,
             uac_hold=1000)
    if not r:
        return
    alice, bob, ma, mb = r
    inv_b = check_auth_and_legs(ctx, label, alice, bob)
    invs = find(bob.received(), "INVITE ")
    oks = find(alice.received(), "SIP/2.0 200", "INVITE")
    if not ctx.check("call 4: bob got 3 INVITEs, alice 3 answers",
                     len(invs) == 3 and len(oks) == 3,
                     (len(invs), len(oks))):
        return
    ctx.check("call 4: the re-INVITEs are in bob's dialog",
              all(header(m, "Call-ID") == header(inv_b, "Call-ID")
                  for m in invs[1:]) and all(
                      param(header(m, "To"), "tag") for m in invs[1:]))
    for i, (want_b, want_a) in enumerate((("sendonly", "recvonly"),
                                          ("sendrecv", "sendrecv")), 1):
        what = "hold" if i == 1 else "resume"
        b = check_sdp(ctx, env, "call 4 %s: re-INVITE bob got" % what,
                      invs[i], ma.port)
        a = check_sdp(ctx, env, "call 4 %s: 200 alice got" % what, oks[i],
                      mb.port)
        ctx.check("call 4 %s: bob's offer says a=%s, alice's answer a=%s"
                  % (what, want_b, want_a),
                  b and a and b[2] == want_b and a[2] == want_a, (b, a))


def run(ctx):
    if not skip_without_tools(ctx):
        return
    env = SipEnv(ctx)
    if not env.start():
        return
    for u, pw in PW.items():
        env.db.subscriber(u, pw)
    ports = {u: free_udp_port("127.0.0.1") for u in PW}
    for u in PW:
        r = register(ctx, "reg-" + u, env, u, PW[u], port=ports[u])
        ctx.check("%s registers from 127.0.0.1:%d (401, 200)"
                  % (u, ports[u]), r.rc == 0, r.brief())

    answered_call(ctx, env, ports)
    cancelled_call(ctx, env, ports)
    busy_call(ctx, env, ports)
    hold_call(ctx, env, ports)

    rows = env.db.wait_cdrs(4)
    got = cdr_summary(rows)
    ctx.note("cdrs (direction, result, hangup_side, trunk): %s" % got)
    ctx.check("4 CDRs, all internal", len(rows) == 4 and all(
        r["direction"] == "internal" for r in rows), got)
    res = [r["result"] for r in rows]
    ctx.check("CDR results 200, 487, 486, 200", res == [200, 487, 486, 200],
              res)
    if len(rows) == 4:
        ctx.check("CDR hangup_side: callee for call 1, caller for call 4",
                  rows[0]["hangup_side"] == "callee"
                  and rows[3]["hangup_side"] == "caller",
                  [r["hangup_side"] for r in rows])
        ctx.check("CDR of call 1 answered with a duration",
                  rows[0]["answered_at"] and rows[0]["duration_s"] >= 3,
                  rows[0])
    n = env.sbc.metric("sbc_calls_active", {"direction": "internal"})
    ctx.check("sbc_calls_active{direction=internal} back to 0", n == 0, n)

    rc, _ = env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

# tests/integration/sip-register/expect.py  see README.md in this directory
import signal

from siptest import (DOMAIN, Sipp, SipEnv, MediaEp, cdr_summary, find,
                     first_line, free_udp_port, header, header_names,
                     headers, register, skip_without_tools, wait_until)

PW = {"alice": "alice-secret-1", "bob": "bob-secret-2"}


def binding(env, user, port):
    """The registrations row of <user> whose source is 127.0.0.1:<port>."""
    for r in env.db.registrations("%s@%s" % (user, DOMAIN)):
        if ("127.0.0.1" in r["source"]
                and r["source"].endswith(":%d" % port)):
            return r
    return None


def challenge_ok(ctx, what, msg):
    """401 with MD5 first and SHA-256 second, realm = the domain."""
    wa = headers(msg, "WWW-Authenticate")
    ctx.check("%s: 401 has WWW-Authenticate MD5 first, SHA-256 second, "
              "realm=\"%s\"" % (what, DOMAIN),
              len(wa) >= 2 and "sha-256" not in wa[0].lower()
              and "algorithm=sha-256" in wa[1].lower().replace('"', "")
              and all('realm="%s"' % DOMAIN in w for w in wa[:2]), wa)


def good_register(ctx, env, port):
    r = register(ctx, "reg-alice", env, "alice", PW["alice"], port=port,
                 expires=300)
    if not ctx.check("alice registers (REGISTER, 401, REGISTER with "
                     "credentials, 200)", r.rc == 0, r.brief()):
        return
    got = r.received()
    c401 = find(got, "SIP/2.0 401")
    ctx.check("exactly one 401 (the challenge)", len(c401) == 1,
              [first_line(m) for m in got])
    if c401:
        challenge_ok(ctx, "alice", c401[0])
    ok = find(got, "SIP/2.0 200")
    want = "sip:alice@127.0.0.1:%d" % port
    ctc = headers(ok[0], "Contact") if ok else []
    ctx.check("200 lists the contact %s with its expiry" % want,
              any(want in c and ("expires=" in c.lower()
                                 or header(ok[0], "Expires")) for c in ctc),
              ctc)
    row = wait_until(lambda: binding(env, "alice", port), 3, 0.1)
    ctx.check("registrations table: alice@%s from 127.0.0.1:%d"
              % (DOMAIN, port), row, env.db.registrations())
    n = env.sbc.metric("sbc_registrations_active")
    ctx.check("sbc_registrations_active counts it (>= 1)",
              n is not None and n >= 1, n)


def refused(ctx, env):
    """Wrong password and unknown user: the same 401, then the same 403."""
    wrong = register(ctx, "reg-wrongpw", env, "alice", "not-the-password",
                     expect=403)
    unknown = register(ctx, "reg-unknown", env, "mallory", "anything",
                       expect=403)
    ctx.check("wrong password: 401 then 403", wrong.rc == 0, wrong.brief())
    ctx.check("unknown user: 401 then 403", unknown.rc == 0,
              unknown.brief())
    w, u = wrong.received(), unknown.received()
    w401, u401 = find(w, "SIP/2.0 401"), find(u, "SIP/2.0 401")
    w403, u403 = find(w, "SIP/2.0 403"), find(u, "SIP/2.0 403")
    if not (w401 and u401 and w403 and u403):
        ctx.check("both attempts got a 401 and a 403", False,
                  ([first_line(m) for m in w], [first_line(m) for m in u]))
        return
    challenge_ok(ctx, "unknown user", u401[0])
    ctx.check("the 401s look alike (same status line, same headers)",
              first_line(w401[0]) == first_line(u401[0])
              and header_names(w401[0]) == header_names(u401[0]),
              (header_names(w401[0]), header_names(u401[0])))
    ctx.check("the 403s are identical in status line (%r)"
              % first_line(w403[0]),
              first_line(w403[0]) == first_line(u403[0]),
              (first_line(w403[0]), first_line(u403[0])))
    ctx.check("the 403s carry the same headers, no Warning, no body",
              header_names(w403[0]) == header_names(u403[0])
              and "warning" not in header_names(w403[0])
              and (header(w403[0], "Content-Length") or "0") == "0"
              and (header(u403[0], "Content-Length") or "0") == "0",
              (header_names(w403[0]), header_names(u403[0])))
    regs = env.db.registrations()
    ctx.check("no binding for mallory, alice keeps her one binding",
              not [r for r in regs if r["aor"].startswith("mallory@")]
              and len([r for r in regs if r["aor"].startswith("alice@")])
              == 1, regs)


def unregister(ctx, env, port):
    r = register(ctx, "reg-bob", env, "bob", PW["bob"], port=port)
    ctx.check("bob registers", r.rc == 0, r.brief())
    ctx.check("registrations table has bob's binding",
              wait_until(lambda: binding(env, "bob", port), 3, 0.1),
              env.db.registrations())
    r = register(ctx, "unreg-bob", env, "bob", PW["bob"], port=port,
                 expires=0)
    ctx.check("bob's REGISTER with Expires 0: 401, then 200", r.rc == 0,
              r.brief())
    ok = find(r.received(), "SIP/2.0 200")
    me = "sip:bob@127.0.0.1:%d" % port
    ctx.check("the 200 no longer lists %s" % me,
              ok and not [c for c in headers(ok[0], "Contact") if me in c
                          and "expires=0" not in c.lower()],
              headers(ok[0], "Contact") if ok else None)
    ctx.check("registrations table: bob's binding is gone",
              wait_until(lambda: not binding(env, "bob", port), 3, 0.1),
              env.db.registrations())


def after_restart(ctx, env, a_port, b_port):
    rc, ready = env.restart_sbc()
    if not ready:
        return
    ctx.check("after the restart the registrations table still has "
              "alice's binding", binding(env, "alice", a_port),
              env.db.registrations())
    n = wait_until(lambda: (env.sbc.metric("sbc_registrations_active")
                            or 0) >= 1, 3, 0.1)
    ctx.check("sbc_registrations_active >= 1 after the restart (loaded "
              "from the database)", n,
              env.sbc.metric("sbc_registrations_active"))
    # bob (not registered) calls alice at the binding made before
    ma, mb = MediaEp("alice"), MediaEp("bob")
    alice = Sipp(ctx, "restart-alice", "uas-answer.xml", port=a_port,
                 keys={"user": "alice"}, media=ma.addr)
    if not ctx.check("alice's phone listens on 127.0.0.1:%d" % a_port,
                     alice.wait_bound(), alice.tail()):
        return
    bob = Sipp(ctx, "restart-bob", "call.xml", port=b_port,
               remote=env.target, service="alice",
               auth=("bob", PW["bob"]), keys={"user": "bob"}, media=mb.addr,
               hold_ms=1000)
    rc_b = bob.wait()
    rc_a = alice.finish()
    ma.close()
    mb.close()
    ctx.check("after the restart bob's call to alice completes (bob's "
              "sipp exit 0)", rc_b == 0, bob.brief())
    inv = find(alice.received(), "INVITE ")
    ctx.check("alice's phone got the INVITE at the binding from before "
              "the restart", inv and first_line(inv[0]).split()[1]
              .startswith("sip:alice@127.0.0.1:%d" % a_port),
              [first_line(m) for m in alice.received()])
    ok, bad = alice.counts()
    ctx.check("alice's sipp exit 0, the call done", rc_a == 0 and bad == 0
              and (ok or 0) >= 1, alice.brief())
    rows = env.db.wait_cdrs(1)
    ctx.check("one CDR: internal, 200", cdr_summary(rows)[:1] and
              rows[0]["direction"] == "internal" and rows[0]["result"] == 200,
              cdr_summary(rows))


def run(ctx):
    if not skip_without_tools(ctx):
        return
    env = SipEnv(ctx)
    if not env.start():
        return
    for u, pw in PW.items():
        env.db.subscriber(u, pw)
    a_port = free_udp_port("127.0.0.1")
    b_port = free_udp_port("127.0.0.1")

    good_register(ctx, env, a_port)
    refused(ctx, env)
    unregister(ctx, env, b_port)
    after_restart(ctx, env, a_port, b_port)

    rc, _ = env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

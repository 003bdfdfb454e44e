# tests/integration/foundation/expect.py  see README.md in this directory
import os
import signal

from sbctest import (MEDIAD_BIN, SBC_BIN, SRC_ROOT, Mediad, Sbc,
                     run_check_config, s, sipp, wait_until)


def check_configs(ctx):
    for binary, conf in ((MEDIAD_BIN, "conf/mediad.conf"),
                         (SBC_BIN, "conf/sbc.conf")):
        name = os.path.basename(binary)
        rc, out = run_check_config(binary, os.path.join(SRC_ROOT, conf))
        ctx.check("%s -t accepts shipped %s" % (name, conf),
                  rc == 0 and "configuration OK" in out, out)

    bad = {
        MEDIAD_BIN: ("# comment\nworkers 1\nport_min 99999\n", 3, "port_min"),
        SBC_BIN: ("log_level info\n\n# x\nsip_udp not-an-address\n", 4,
                  "sip_udp"),
    }
    for binary, (text, line, key) in bad.items():
        name = os.path.basename(binary)
        path = os.path.join(ctx.dir, "bad-%s.conf" % name)
        with open(path, "w") as f:
            f.write(text)
        rc, out = run_check_config(binary, path)
        ctx.check("%s -t rejects a bad value naming %s:%d" % (name, path,
                                                              line),
                  rc != 0 and ("%s:%d:" % (path, line)) in out and key in out,
                  "rc=%s out=%r" % (rc, out))
        with open(path, "w") as f:
            f.write("log_level info\nno_such_key 1\n")
        rc, out = run_check_config(binary, path)
        ctx.check("%s -t rejects an unknown key on line 2" % name,
                  rc != 0 and ("%s:2:" % path) in out
                  and "no_such_key" in out, "rc=%s out=%r" % (rc, out))


def mediad_up(sbc, want):
    def f():
        st, h = sbc.health()
        return h.get("mediad") == want and (st == 200) == (want == "up")
    return wait_until(f, 15, 0.2)


def check_ng(ctx, med):
    r = med.ng("ping")
    ctx.check("NG ping answers pong", r and s(r.get("result")) == "pong", r)
    r = med.ng("statistics")
    ctx.check("NG statistics answers ok with current statistics",
              r and s(r.get("result")) == "ok"
              and "currentstatistics" in r.get("statistics", {}), r)

    # a retransmitted request (same cookie) gets the same reply bytes
    msg = b"dup-cookie-1 d7:command10:statisticse"
    a = med.ng_raw(msg)
    b = med.ng_raw(msg)
    ctx.check("repeated cookie is answered from the cache",
              a is not None and a == b, (a, b))

    r = med.ng_raw(b"bad-1 d7:command4:pin")
    ctx.check("truncated bencode gets an error reply",
              r is not None and r.startswith(b"bad-1 ")
              and b"error" in r, r)
    r = med.ng("no-such-command")
    ctx.check("unknown command gets an error naming it",
              r and s(r.get("result")) == "error"
              and b"no-such-command" in r.get("error-reason", b""), r)
    med.ng_raw(b"\x00\x01garbage-without-space")
    r = med.ng("ping")
    ctx.check("mediad keeps serving after garbage",
              r and s(r.get("result")) == "pong", r)


def run(ctx):
    check_configs(ctx)

    med = Mediad(ctx)
    sbc = Sbc(ctx, med.ng_port)

    # either daemon may start first: sbc first, mediad down
    sbc.start()
    ctx.check("sbc becomes ready (HTTP /health answers)", sbc.wait_ready())
    st, h = sbc.health()
    ctx.check("/health: mediad down -> 503, degraded",
              st == 503 and h.get("mediad") == "down"
              and h.get("status") == "degraded"
              and isinstance(h.get("uptime_s"), int), (st, h))

    med.start()
    ctx.check("mediad answers NG ping", med.wait_ready())
    ctx.check("mediad created its segment /dev/shm%s" % ctx.shm_name,
              os.path.exists("/dev/shm" + ctx.shm_name))
    check_ng(ctx, med)
    ctx.check("/health turns mediad up (200, ok)", mediad_up(sbc, "up"),
              sbc.health())
    st, h = sbc.health()
    ctx.check("/health status ok", st == 200 and h.get("status") == "ok", h)

    # SIP: OPTIONS over UDP and TCP gets 200 from a real sipp
    target = "127.0.0.1:%d" % sbc.sip_port
    for tp in ("u1", "t1"):
        rc = sipp(ctx, ctx.path("options.xml"), target, tp)
        if rc is None:
            ctx.note("sipp not installed")
        ctx.check("sipp OPTIONS over %s gets 200" % tp, rc == 0, rc)
    n = sbc.metric("sbc_sip_requests_total", {"method": "OPTIONS"})
    ctx.check("/metrics counts the OPTIONS requests (>= 2)",
              n is not None and n >= 2, n)
    n = sbc.metric("sbc_sip_responses_total", {"code": "200"})
    ctx.check("/metrics counts the 200 responses (>= 2)",
              n is not None and n >= 2, n)

    # API auth
    st, hd, _ = sbc.http("GET", "/api/v1/trunks")
    ctx.check("API without a token: 401 with WWW-Authenticate",
              st == 401 and "www-authenticate" in hd, st)
    st, _, _ = sbc.http("GET", "/api/v1/trunks", token="wrong")
    ctx.check("API with a wrong token: 401", st == 401, st)

    # mediad stops: exit 0, segment removed, /health down
    rc, dt = med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0 within 5 s", rc == 0 and dt < 5,
              (rc, dt))
    ctx.check("mediad removed its segment",
              not os.path.exists("/dev/shm" + ctx.shm_name))
    ctx.check("/health turns mediad down", mediad_up(sbc, "down"),
              sbc.health())

    # a garbage segment in the way is replaced by the next mediad
    with open("/dev/shm" + ctx.shm_name, "wb") as f:
        f.write(b"not a segment" * 100)
    med2 = Mediad(ctx, ng_port=med.ng_port)
    med2.start()
    ctx.check("mediad restarts over a stale segment", med2.wait_ready())
    ctx.check("/health turns mediad up again", mediad_up(sbc, "up"),
              sbc.health())

    rc, dt = sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0 within 5 s", rc == 0 and dt < 5, (rc, dt))
    rc, dt = med2.stop(signal.SIGINT)
    ctx.check("mediad SIGINT: exit 0 within 5 s", rc == 0 and dt < 5,
              (rc, dt))

    # sbc on SIGINT as well
    sbc2 = Sbc(ctx, med.ng_port)
    sbc2.start()
    ctx.check("sbc starts again on the same database", sbc2.wait_ready())
    rc, dt = sbc2.stop(signal.SIGINT)
    ctx.check("sbc SIGINT: exit 0 within 5 s", rc == 0 and dt < 5, (rc, dt))

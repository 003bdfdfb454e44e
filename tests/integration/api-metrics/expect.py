# tests/integration/api-metrics/expect.py  see README.md in this directory
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import time

from siptest import (DOMAIN, MediaEp, SipEnv, Sipp, find, free_udp_port,
                     register, rtp_both_ways, sdp_addr, sdp_of,
                     skip_without_tools)
from sbctest import wait_until

PROMTOOL = shutil.which("promtool")
N_REGS = 10000
PW = {"alice": "alice-pw-%d" % os.getpid(), "bob": "bob-pw-%d" % os.getpid()}
CTYPE = "text/plain; version=0.0.4; charset=utf-8"

# SPEC.md "Metrics": family -> (type, labels every sample carries)
SPEC = {
    "sbc_sip_requests_total": ("counter", {"method"}),
    "sbc_sip_responses_total": ("counter", {"code"}),
    "sbc_calls_active": ("gauge", {"direction"}),
    "sbc_calls_total": ("counter", {"direction", "result"}),
    "sbc_registrations_active": ("gauge", set()),
    "sbc_trunk_up": ("gauge", {"trunk"}),
    "sbc_trunk_calls_active": ("gauge", {"trunk"}),
    "sbc_blocked_total": ("counter", {"reason"}),
    "mediad_sessions_active": ("gauge", set()),
    "mediad_packets_total": ("counter", {"dir"}),
    "mediad_bytes_total": ("counter", {"dir"}),
    "mediad_packets_lost_total": ("counter", set()),
    "mediad_transcoded_packets_total": ("counter", set()),
    "mediad_worker_busy_ratio": ("gauge", {"worker"}),
    # the process_* families of the Prometheus client libraries
    "process_cpu_seconds_total": ("counter", set()),
    "process_resident_memory_bytes": ("gauge", set()),
    "process_start_time_seconds": ("gauge", set()),
    "process_open_fds": ("gauge", set()),
    "process_max_fds": ("gauge", set()),
}

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """{family: {"type": t, "samples": [(labels dict, value)]}}. The
    family of a sample is the TYPE'd name it starts with."""
    fams = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(None, 3)
            fams.setdefault(name, {"type": typ, "samples": []})
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            continue
        name = m.group(1)
        labels = dict(LABEL.findall(m.group(2) or ""))
        fam = fams.get(name)
        if fam is None:
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[:-len(suffix)] in fams:
                    fam = fams[name[:-len(suffix)]]
        if fam is not None:
            fam["samples"].append((labels, float(m.group(3))))
    return fams


def total(fams, name, **labels):
    """Sum of the samples of <name> whose labels include <labels>."""
    fam = fams.get(name)
    if not fam:
        return None
    return sum(v for lb, v in fam["samples"]
               if all(lb.get(k) == x for k, x in labels.items()))


def scrape(ctx, sbc, what):
    """GET /metrics: the text, checked with promtool."""
    st, hd, body = sbc.http("GET", "/metrics")
    text = body.decode("utf-8", "replace")
    ctx.check("%s: GET /metrics 200, Content-Type %s" % (what, CTYPE),
              st == 200 and hd.get("content-type") == CTYPE, (st, hd))
    if PROMTOOL:
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=body,
                           capture_output=True, timeout=30)
        out = (p.stdout + p.stderr).decode(errors="replace").strip()
        if p.returncode != 0 or out:
            with open(os.path.join(ctx.dir, "metrics-%s.txt" % re.sub(
                    r"\W+", "-", what)), "w") as f:
                f.write(text)
        ctx.check("%s: promtool check metrics passes, no lint message"
                  % what, p.returncode == 0 and not out,
                  "exit %d: %s" % (p.returncode, out[:2000]))
    return text, parse(text)


def check_families(ctx, fams, what):
    missing = [n for n in SPEC if n not in fams]
    ctx.check("%s: every metric family of SPEC.md is there" % what,
              not missing, missing)
    wrong = [(n, fams[n]["type"], t) for n, (t, _) in SPEC.items()
             if n in fams and fams[n]["type"] != t]
    ctx.check("%s: families have the SPEC's types" % what, not wrong, wrong)
    bad = [(n, lb) for n, (_, want) in SPEC.items() if n in fams
           for lb, _ in fams[n]["samples"] if set(lb) != want]
    ctx.check("%s: samples carry exactly the SPEC's labels" % what,
              not bad, bad[:6])


def seed_registrations(path, n):
    """<n> contacts over TCP (so the registrar sends them no UDP
    keepalives) from sources on 127.1/16, expiring in an hour."""
    exp = int(time.time()) + 3600
    rows = []
    for i in range(n):
        ip = "127.1.%d.%d" % (i // 250, i % 250 + 1)
        rows.append(("u%05d@%s" % (i, DOMAIN),
                     "sip:u%05d@%s:5060;transport=tcp" % (i, ip),
                     "%s:5060" % ip, "tcp", "seed/1.0", exp))
    c = sqlite3.connect(path, timeout=10)
    try:
        with c:
            c.executemany("INSERT INTO registrations (aor, contact, source, "
                          "transport, user_agent, expires) VALUES "
                          "(?, ?, ?, ?, ?, ?)", rows)
    finally:
        c.close()


def measure(ctx, sbc, n=50):
    """Time <n> scrapes (HTTP round trip on loopback, body read):
    reported, never asserted."""
    times = []
    size = 0
    for _ in range(n):
        t0 = time.perf_counter()
        st, _, body = sbc.http("GET", "/metrics")
        times.append((time.perf_counter() - t0) * 1000)
        size = len(body)
    times.sort()
    ctx.note("/metrics with %d registrations: %d bytes; %d scrapes: "
             "median %.2f ms, p90 %.2f ms, max %.2f ms (client round "
             "trip on loopback)" % (N_REGS, size, n,
                                    statistics.median(times),
                                    times[int(n * 0.9) - 1], times[-1]))
    return times


def call_with_media(ctx, env, ports):
    """alice calls bob; while it is up, RTP flows both ways and /metrics
    is scraped; then the API hangs it up. Returns the scrape taken
    during the call (text, families) or None."""
    ma, mb = MediaEp("alice"), MediaEp("bob")
    bob = Sipp(ctx, "call-bob", "uas-answer.xml", port=ports["bob"],
               keys={"user": "bob"}, media=mb.addr, timeout=60)
    if not ctx.check("bob's sipp listens", bob.wait_bound(), bob.tail()):
        return None
    alice = Sipp(ctx, "call-alice", "call-callee-bye.xml",
                 port=ports["alice"], remote=env.target, service="bob",
                 auth=("alice", PW["alice"]), keys={"user": "alice"},
                 media=ma.addr, timeout=60)
    got = None
    ack = bob.wait_received("ACK", timeout=15)
    ok = alice.wait_received("SIP/2.0 200", method="INVITE", timeout=5)
    inv = bob.wait_received("INVITE ", timeout=1)
    if ctx.check("the call is up (alice got 200, bob the ACK)",
                 ack and ok and inv, alice.tail()):
        a = sdp_addr(sdp_of(ok[0]))
        b = sdp_addr(sdp_of(inv[0]))
        if ctx.check("both sides got an SDP", a and b, (a, b)):
            rtp_both_ways(ctx, "call", ma, a[:2], mb, b[:2], n=100)
        got = scrape(ctx, env.sbc, "during the call")
        _, _, doc = env.sbc.http("GET", "/api/v1/calls",
                                 token=env.sbc.token)
        calls = json.loads(doc or b"[]")
        for c in calls:
            env.sbc.http("DELETE", "/api/v1/calls/%s" % c["id"],
                         token=env.sbc.token)
    rc = alice.wait()
    ctx.check("alice's call ended with the API's hang up (BYE), exit 0",
              rc == 0 and find(alice.received(), "BYE "), alice.brief())
    rc = bob.finish()
    ctx.check("bob's sipp exit 0", rc == 0, bob.brief())
    ma.close()
    mb.close()
    return got


def run(ctx):
    if not skip_without_tools(ctx):
        return
    ctx.check("promtool installed (Debian package prometheus)", PROMTOOL)
    env = SipEnv(ctx)
    if not env.start():
        return
    text, fams = scrape(ctx, env.sbc, "idle")

    # the registrar loads stored contacts at start: seed 10 000
    port = env.sbc.sip_port
    rc, _ = env.sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    seed_registrations(os.path.join(ctx.dir, "sbc.db"), N_REGS)
    if not env.start_sbc(sip_port=port):
        return
    sbc = env.sbc
    n = wait_until(lambda: sbc.metric("sbc_registrations_active"), 10, 0.1)
    ctx.check("sbc_registrations_active is %d after the restart" % N_REGS,
              n == N_REGS, n)

    for u in PW:
        st, _, b = sbc.http("POST", "/api/v1/subscribers",
                            {"username": u, "domain": DOMAIN,
                             "password": PW[u]}, token=sbc.token)
        ctx.check("POST subscriber %s: 201" % u, st == 201, (st, b))
    st, _, b = sbc.http("POST", "/api/v1/trunks",
                        {"name": "carrier-1", "host": "127.0.0.2",
                         "port": free_udp_port("127.0.0.2")},
                        token=sbc.token)
    ctx.check("POST trunk carrier-1: 201", st == 201, (st, b))

    ports = {u: free_udp_port("127.0.0.1") for u in PW}
    r = register(ctx, "reg-bob", env, "bob", PW["bob"], port=ports["bob"])
    ctx.check("bob registers: 401, 200", r.rc == 0, r.brief())
    n = sbc.metric("sbc_registrations_active")
    ctx.check("sbc_registrations_active counts bob too", n == N_REGS + 1, n)

    during = call_with_media(ctx, env, ports)
    if during:
        _, fams = during
        check_families(ctx, fams, "during the call")
        ctx.check("during the call: sbc_calls_active{direction=internal} "
                  "is 1", total(fams, "sbc_calls_active",
                                direction="internal") == 1,
                  total(fams, "sbc_calls_active"))
        ctx.check("during the call: sbc_trunk_up{trunk=carrier-1} and "
                  "sbc_trunk_calls_active{trunk=carrier-1} are there",
                  total(fams, "sbc_trunk_up", trunk="carrier-1")
                  is not None and total(fams, "sbc_trunk_calls_active",
                                        trunk="carrier-1") == 0,
                  (fams.get("sbc_trunk_up"),
                   fams.get("sbc_trunk_calls_active")))
        ctx.check("during the call: mediad_sessions_active is 1",
                  total(fams, "mediad_sessions_active") == 1,
                  total(fams, "mediad_sessions_active"))
        pk = total(fams, "mediad_packets_total")
        ctx.check("during the call: mediad_packets_total counted the 200 "
                  "RTP packets", pk is not None and pk >= 200, pk)

    # after the call: counters moved, the text still passes promtool
    def ended():
        f = parse(sbc.http("GET", "/metrics")[2].decode())
        return total(f, "sbc_calls_total", direction="internal",
                     result="answered") == 1 and f
    wait_until(ended, 5, 0.1)
    text, fams = scrape(ctx, sbc, "after the call")
    check_families(ctx, fams, "after the call")
    ctx.check("sbc_calls_total{direction=internal,result=answered} is 1",
              total(fams, "sbc_calls_total", direction="internal",
                    result="answered") == 1,
              fams.get("sbc_calls_total", {}).get("samples"))
    ctx.check("sbc_calls_active is 0 again",
              total(fams, "sbc_calls_active") == 0,
              total(fams, "sbc_calls_active"))
    ctx.check("sbc_sip_requests_total counted the REGISTERs and INVITEs",
              (total(fams, "sbc_sip_requests_total", method="REGISTER")
               or 0) >= 2 and (total(fams, "sbc_sip_requests_total",
                                     method="INVITE") or 0) >= 2,
              fams.get("sbc_sip_requests_total", {}).get("samples"))
    ctx.check("sbc_sip_responses_total counted the 401, the 407 and the "
              "200s", all((total(fams, "sbc_sip_responses_total", code=c)
                           or 0) >= 1 for c in ("401", "407", "200")),
              fams.get("sbc_sip_responses_total", {}).get("samples"))
    dup = [ln for ln in set(text.splitlines()) if ln.startswith("# TYPE")
           and text.count(ln + "\n") > 1]
    ctx.check("no family is declared twice", not dup, dup)

    measure(ctx, sbc)

    rc, _ = sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

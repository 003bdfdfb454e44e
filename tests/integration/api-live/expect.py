# tests/integration/api-live/expect.py  see README.md in this directory
#
# Provisioning through the REST API takes effect on the next call, with
# no restart, and API writes made while calls run lose nothing.
import json
import threading

from siptest import (DOMAIN, MediaEp, SipEnv, Sipp, free_udp_port,
                     register, skip_without_tools)

T1 = "127.0.0.2"
PW = "ann-live-secret"
DID = "4930777"
CALLS = 100
RATE = 20
WRITES = 150


def api(env, method, path, body=None):
    st, _, raw = env.sbc.http(method, path, body=body, token=env.sbc.token)
    try:
        doc = json.loads(raw) if raw else None
    except ValueError:
        doc = raw
    return st, doc


def run(ctx):
    if not skip_without_tools(ctx, ips=(T1,)):
        return
    env = SipEnv(ctx)
    if not env.start():
        return

    # everything through the API, nothing in SQL, no restart
    st, doc = api(env, "POST", "/api/v1/subscribers",
                  {"username": "ann", "domain": DOMAIN, "password": PW})
    ctx.check("POST /api/v1/subscribers ann: 201", st == 201, (st, doc))
    tport = free_udp_port(T1)
    st, doc = api(env, "POST", "/api/v1/trunks",
                  {"name": "carrier1", "host": T1, "port": tport})
    ctx.check("POST /api/v1/trunks carrier1 (host %s): 201" % T1,
              st == 201, (st, doc))
    st, doc = api(env, "POST", "/api/v1/dids",
                  {"number": DID, "target": "ann@" + DOMAIN,
                   "trunk": "carrier1"})
    ctx.check("POST /api/v1/dids %s -> ann: 201" % DID, st == 201,
              (st, doc))

    pa = free_udp_port("127.0.0.1")
    r = register(ctx, "reg-ann", env, "ann", PW, port=pa)
    ctx.check("ann (created through the API) registers", r.rc == 0,
              r.brief())

    ma, mt = MediaEp("ann"), MediaEp("carrier1", T1)
    ann = Sipp(ctx, "ann", "uas-200.xml", port=pa, keys={"user": "ann"},
               media=ma.addr, timeout=60)
    if not ctx.check("ann's phone listens", ann.wait_bound(), ann.tail()):
        return
    trunk = Sipp(ctx, "carrier1", "trunk-call.xml", ip=T1, port=tport,
                 remote=env.target, service=DID,
                 keys={"cli": "4940555123"}, media=mt.addr, calls=CALLS,
                 hold_ms=200, timeout=60, extra=("-r", str(RATE)))

    # API writes while the calls run: every one must land
    results = []

    def writer():
        for i in range(WRITES):
            entry = "49300%05d" % i
            st, _ = api(env, "POST", "/api/v1/blocklist",
                        {"entry": entry, "reason": "bulk %d" % i})
            results.append(("POST", entry, st))
            if i % 3 == 2:
                st, _ = api(env, "DELETE", "/api/v1/blocklist/" + entry)
                results.append(("DELETE", entry, st))
    th = threading.Thread(target=writer)
    th.start()
    rc = trunk.wait()
    th.join(60)
    ann.finish()
    ma.close()
    mt.close()

    ok, bad = trunk.counts()
    ctx.check("%d inbound calls from the API-made trunk to the API-made DID"
              ": all succeeded" % CALLS, rc == 0 and ok == CALLS and
              not bad, trunk.brief())
    posts = [r for r in results if r[0] == "POST"]
    dels = [r for r in results if r[0] == "DELETE"]
    ctx.check("%d POSTs and %d DELETEs during the calls: all 201/204"
              % (len(posts), len(dels)),
              len(posts) == WRITES and all(r[2] == 201 for r in posts)
              and all(r[2] == 204 for r in dels),
              [r for r in results if r[2] not in (201, 204)][:5])
    want = {r[1] for r in posts} - {r[1] for r in dels}
    st, doc = api(env, "GET", "/api/v1/blocklist?limit=1000")
    have = {e.get("entry") for e in doc} if isinstance(doc, list) else set()
    ctx.check("the blocklist holds exactly the %d entries left" % len(want),
              st == 200 and have == want,
              (st, len(have), sorted(want - have)[:3],
               sorted(have - want)[:3]))
    rows = [r for r in env.db.wait_cdrs(CALLS, timeout=10)
            if r["direction"] == "inbound"]
    ctx.check("%d CDRs: inbound via carrier1, answered" % CALLS,
              len(rows) == CALLS and all(r["trunk"] == "carrier1" and
                                         r["result"] == 200 for r in rows),
              len(rows))
    st, doc = api(env, "GET", "/api/v1/cdrs?limit=1000")
    ctx.check("GET /api/v1/cdrs lists them", st == 200 and
              isinstance(doc, list) and len(doc) == CALLS,
              (st, len(doc) if isinstance(doc, list) else doc))

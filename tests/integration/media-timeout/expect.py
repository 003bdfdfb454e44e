# tests/integration/media-timeout/expect.py  see README.md in this directory
import os
import time

from media import (SHM_EV_MEDIA_TIMEOUT, Endpoint, RtpStream, Sdp, msg_str,
                   ng_answer, ng_offer, ng_ok, rtp_parse, sdp_build,
                   send_paced, shm_open_rings, start_relay)
from sbctest import s

TIMEOUT = 2          # media_timeout (mediad) / --timeout (rtpengine), s
FLOW_S = 3.0         # media flows longer than TIMEOUT: no event meanwhile
EVENT_WITHIN = 6.0   # after the last packet


def timeout_events(rings, callid, seen):
    """Pop every ring; returns [(ring, seq, payload)] of media-timeout
    records naming <callid>; every record goes into <seen>."""
    out = []
    for ring, typ, seq, payload in rings.pop_all():
        seen.append((ring, typ, seq, payload))
        if typ == SHM_EV_MEDIA_TIMEOUT and msg_str(callid) in payload:
            out.append((ring, seq, payload))
    return out


def run(ctx):
    relay = start_relay(ctx, rtpengine_timeout=TIMEOUT,
                        media_timeout=TIMEOUT)
    if not relay:
        return
    rte = relay.kind == "rtpengine"
    rings = None
    seen = []
    if rte:
        ctx.note("rtpengine has no shm ring: the ring checks are skipped, "
                 "only the NG-visible part runs")
    else:
        rings = shm_open_rings(ctx.shm_name)
        if not ctx.check("shm segment %s maps and validates (magic, "
                         "version, ready, sizes)" % ctx.shm_name,
                         rings is not None):
            return
        ctx.note("segment: %d rings of %d x %d bytes"
                 % (rings.nrings, rings.ring_slots, rings.slot_size))
        rings.pop_all()          # whatever came before the call

    callid = "tmo-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "tagA-" + os.urandom(3).hex(), "tagB-" + os.urandom(3).hex()
    A, B = Endpoint("A"), Endpoint("B")
    r = ng_offer(relay, callid, ftag, sdp_build(A.port))
    if not ctx.check("offer: ok", ng_ok(r), r):
        return
    ob = Sdp(s(r["sdp"])).audio()
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port))
    if not ctx.check("answer: ok", ng_ok(r), r):
        return
    oa = Sdp(s(r["sdp"])).audio()

    # media flows for longer than the timeout: nothing may be reported
    sa, sb = RtpStream(0), RtpStream(0)
    n = int(FLOW_S / 0.02)
    send_paced([[(A.rtp, sa.packet(b"\xff" * 160), ("127.0.0.1", oa["port"])),
                 (B.rtp, sb.packet(b"\xff" * 160), ("127.0.0.1", ob["port"]))]
                for _ in range(n)])
    t_last = time.monotonic()
    got_b = [p for p in (rtp_parse(d) for d, _ in B.recv(want=n, timeout=2))
             if p]
    got_a = [p for p in (rtp_parse(d) for d, _ in A.recv(want=n, timeout=2))
             if p]
    ctx.check("media relayed both ways for %.0f s (%d/%d, %d/%d packets)"
              % (FLOW_S, len(got_b), n, len(got_a), n),
              len(got_b) >= n * 9 // 10 and len(got_a) >= n * 9 // 10)
    if rings:
        ss = [x for x in rings.sessions() if x["callid"] == callid]
        ctx.check("shm session table: the call is an active session with "
                  "packets counted on both legs",
                  len(ss) == 1 and all(p > 0 for p in ss[0]["packets"]),
                  ss or rings.sessions()[:4])
        early = timeout_events(rings, callid, seen)
        ctx.check("no media-timeout event while media flowed", not early,
                  early)

    # silence: the event must come, within EVENT_WITHIN s
    if rings:
        ev, t_ev = [], None
        end = t_last + EVENT_WITHIN
        while time.monotonic() < end and not ev:
            ev = timeout_events(rings, callid, seen)
            if not ev:
                time.sleep(0.05)
        t_ev = time.monotonic() - t_last
        ctx.check("ring consumer sees SHM_EV_MEDIA_TIMEOUT naming the "
                  "call-id (u16-length-prefixed) within %.0f s"
                  % EVENT_WITHIN, ev,
                  [(g[0], g[1], g[2], g[3][:48].hex()) for g in seen[-10:]])
        if ev:
            ctx.note("media-timeout after %.1f s of silence: ring %d seq %d "
                     "payload %s" % (t_ev, ev[0][0], ev[0][1],
                                     ev[0][2][:64].hex()))
            ctx.check("... not before media_timeout (%d s) of silence"
                      % TIMEOUT, t_ev >= TIMEOUT - 0.5, "%.1f s" % t_ev)
        left = [rings.count(i) for i in range(rings.nrings)]
        ctx.check("the consumer's tail caught up with every ring's head",
                  not any(left), left)
        drops = sum(rings.dropped(i) for i in range(rings.nrings))
        ctx.check("no ring dropped a record", drops == 0, drops)
    else:
        time.sleep(TIMEOUT + 2.5)

    st = relay.ng("statistics")
    tot = ((st or {}).get("statistics") or {}).get("totalstatistics", {})
    ctx.check("statistics: totalstatistics.timeoutsessions >= 1",
              (tot.get("timeoutsessions") or 0) >= 1, tot)

    q = relay.ng("query", **{"call-id": callid, "from-tag": ftag})
    ctx.note("query after the timeout: %s" % (s(q.get("result")) if q
                                               else None))
    relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    r = relay.ng("ping")
    ctx.check("relay still answers ping", r and s(r.get("result")) == "pong",
              r)
    if rings:
        rings.close()
    A.close()
    B.close()

# tests/integration/media-relay/expect.py  see README.md in this directory
import os

from media import (Endpoint, RtpStream, Sdp, dtmf_payload, ng_answer,
                   ng_error, ng_offer, ng_ok, query_leg_packets,
                   query_total_packets, rtcp_rr, rtcp_types, rtp_parse,
                   sdp_build, send_paced, start_relay, udp_bindable)
from sbctest import s, wait_until

N = 50


def check_sdp(ctx, what, sdp_text, peer_port):
    """The relay's SDP toward the other leg; returns its audio m= dict."""
    if not ctx.check("%s: reply carries an SDP" % what, bool(sdp_text)):
        return None
    sd = Sdp(sdp_text)
    a = sd.audio()
    if not ctx.check("%s: SDP has an audio m= line" % what, a is not None,
                     sd.text):
        return None
    ctx.check("%s: connection address is the relay's (127.0.0.1)" % what,
              a["conn"] == "127.0.0.1", sd.text)
    ctx.check("%s: port is the relay's, not the peer's" % what,
              a["port"] and a["port"] != peer_port, sd.text)
    ctx.check("%s: origin replaced (no 192.0.2.10 left)" % what,
              "192.0.2.10" not in sd.text and sd.origin
              and sd.origin[-1] == "127.0.0.1", sd.text)
    ctx.check("%s: ICE removed (no a=ice-*, a=candidate)" % what,
              not sd.has_attr("ice-") and not sd.has_attr("candidate"),
              sd.text)
    ctx.check("%s: PCMU and telephone-event/8000 kept" % what,
              0 in a["fmts"] and 101 in a["fmts"]
              and (sd.codec(101) or "").lower() == "telephone-event/8000",
              sd.text)
    ctx.check("%s: sendrecv" % what, a["direction"] == "sendrecv", sd.text)
    return a


def rtp_of(got):
    return [(rtp_parse(d), addr) for d, addr in got]


def check_stream(ctx, what, got, sent, src_port=None):
    """<got> [(bytes, addr)] carries exactly the RTP packets <sent>."""
    pk = rtp_of(got)
    ctx.check("%s: %d of %d packets arrived" % (what, len(pk), len(sent)),
              len(pk) == len(sent), len(pk))
    want = {p["seq"]: p for p in (rtp_parse(x) for x in sent)}
    bad = []
    for p, addr in pk:
        w = want.get(p["seq"]) if p else None
        if not w or any(p[k] != w[k] for k in ("pt", "ts", "ssrc",
                                               "payload", "marker")):
            bad.append((p, addr))
    ctx.check("%s: seq/ts/ssrc/PT/marker and payload preserved" % what,
              pk and not bad, bad[:2])
    if src_port is not None:
        srcs = {addr for _, addr in pk}
        ctx.check("%s: sent from the relay port the peer sends to (%d)"
                  % (what, src_port),
                  srcs == {("127.0.0.1", src_port)}, srcs)


def run(ctx):
    relay = start_relay(ctx)
    if not relay:
        return
    callid = "relay-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "tagA-" + os.urandom(3).hex(), "tagB-" + os.urandom(3).hex()
    A, B = Endpoint("A"), Endpoint("B")
    Anat, Bnat = Endpoint("A-nat"), Endpoint("B-nat")

    # ---- offer / answer ----
    offer_sdp = sdp_build(A.port, origin_ip="192.0.2.10", ice=True)
    r = ng_offer(relay, callid, ftag, offer_sdp)
    if not ctx.check("offer: result ok", ng_ok(r), r):
        return
    ob = check_sdp(ctx, "offer reply (to B)", s(r.get("sdp")), A.port)
    # the same offer again (a SIP retransmission, new cookie): same call,
    # same relay port, no second allocation
    r2 = ng_offer(relay, callid, ftag, offer_sdp)
    a2 = Sdp(s(r2.get("sdp", b""))).audio() if ng_ok(r2) else None
    ctx.check("repeated identical offer: ok with the same relay port",
              ob and a2 and a2["port"] == ob["port"],
              (ob and ob["port"], a2 and a2["port"], r2))
    r = ng_answer(relay, callid, ftag, ttag,
                  sdp_build(B.port, origin_ip="192.0.2.10", ice=True))
    if not ctx.check("answer: result ok", ng_ok(r), r):
        return
    oa = check_sdp(ctx, "answer reply (to A)", s(r.get("sdp")), B.port)
    if not ob or not oa:
        return
    ctx.check("the two legs have different relay ports",
              ob["port"] != oa["port"], (ob["port"], oa["port"]))
    to_b_side = ("127.0.0.1", ob["port"])     # B sends here
    to_a_side = ("127.0.0.1", oa["port"])     # A sends here

    # ---- latching: both legs send from other ports than their SDPs say
    # (NAT). Before a leg sent anything, media goes to its SDP address.
    sa = RtpStream(0, seq=1000, ts=16000)
    sb = RtpStream(0, seq=65500, ts=(1 << 32) - 160 * 20)   # both wrap
    pre = [sb.packet(bytes([0xd5]) * 160) for _ in range(3)]
    send_paced([[(Bnat.rtp, p, to_b_side)] for p in pre])
    check_stream(ctx, "B(NAT port) -> A(SDP port) before A sent anything",
                 A.recv(want=3, timeout=2), pre, oa["port"])
    pre = [sa.packet(bytes([0x55]) * 160) for _ in range(3)]
    send_paced([[(Anat.rtp, p, to_a_side)] for p in pre])
    check_stream(ctx, "A(NAT port) -> B's latched NAT port",
                 Bnat.recv(want=3, timeout=2), pre, ob["port"])

    # ---- 50 packets each way at 20 ms, NAT port to NAT port ----
    out_a, out_b = [], []
    groups = []
    for i in range(N):
        pa = sa.packet(bytes((i + j) & 0xff for j in range(160)))
        pb = sb.packet(bytes((3 * i + j) & 0xff for j in range(160)))
        out_a.append(pa)
        out_b.append(pb)
        groups.append([(Anat.rtp, pa, to_a_side),
                       (Bnat.rtp, pb, to_b_side)])
    send_paced(groups)
    got_b = Bnat.recv(want=N, timeout=2)
    got_a = Anat.recv(want=N, timeout=2)
    check_stream(ctx, "A -> B arrives at B's latched port", got_b,
                 out_a, ob["port"])
    check_stream(ctx, "B -> A arrives at A's latched port", got_a, out_b,
                 oa["port"])
    stray = B.recv(timeout=0.3) + A.recv(timeout=0.01)
    ctx.check("nothing goes to the SDP ports once the legs latched "
              "elsewhere", not stray, len(stray))

    # ---- RTCP to RTP port + 1 (or a=rtcp) ----
    rr_a = rtcp_rr(sa.ssrc, sb.ssrc, 1049)
    rr_b = rtcp_rr(sb.ssrc, sa.ssrc, 50049)
    A.rtcp.sendto(rr_a, ("127.0.0.1", oa["rtcp_port"]))
    B.rtcp.sendto(rr_b, ("127.0.0.1", ob["rtcp_port"]))
    ga = A.recv("rtcp", want=1, timeout=2)
    gb = B.recv("rtcp", want=1, timeout=2)   # RTCP was sent from there
    nat = Bnat.recv("rtcp", timeout=0.2) + Anat.recv("rtcp", timeout=0.01)
    if nat:
        ctx.note("RTCP also went to a latched RTP port + 1: %d" % len(nat))
    ctx.check("RTCP A -> B: an RR arrives at B's RTCP port",
              any(201 in rtcp_types(d) for d, _ in gb),
              [(d[:8].hex(), a) for d, a in gb])
    ctx.check("RTCP B -> A: an RR arrives at A's RTCP port",
              any(201 in rtcp_types(d) for d, _ in ga),
              [(d[:8].hex(), a) for d, a in ga])
    ctx.check("RTCP relayed unchanged (no transcoding in this call)",
              any(d == rr_a for d, _ in gb) and any(d == rr_b for d, _ in ga))
    ctx.note("STUN checks the relay sent toward A/B (ICE peers): %d/%d"
             % (A.stun + Anat.stun, B.stun + Bnat.stun))
    ctx.check("RTCP comes from the relay's RTCP ports",
              all(a == ("127.0.0.1", ob["rtcp_port"]) for _, a in gb)
              and all(a == ("127.0.0.1", oa["rtcp_port"]) for _, a in ga),
              ([a for _, a in gb], [a for _, a in ga]))

    # ---- telephone-event (RFC 4733) A -> B ----
    ev_ts = sa.ts
    dt = []
    for k in range(6):
        end = k >= 3
        dt.append(sa.packet(dtmf_payload(5, end, 10, 160 * min(k + 1, 4)),
                            pt=101, marker=(k == 0), advance=False,
                            ts=ev_ts))
    sa.ts = (ev_ts + 640) & 0xffffffff
    send_paced([[(Anat.rtp, p, to_a_side)] for p in dt])
    got = Bnat.recv(want=len(dt), timeout=2)
    check_stream(ctx, "telephone-event (PT 101) A -> B", got, dt)

    # ---- query and list ----
    q = relay.ng("query", **{"call-id": callid, "from-tag": ftag})
    ctx.check("query: result ok", ng_ok(q), q)
    pa_n, pb_n = query_leg_packets(q, ftag), query_leg_packets(q, ttag)
    tot = query_total_packets(q)
    ctx.note("query: packets %s=%s %s=%s totals.RTP.packets=%s"
             % (ftag, pa_n, ttag, pb_n, tot))
    ctx.check("query: tags/<tag>/medias/streams/stats.packets > 0 on both "
              "legs (rtpengine's shape)", (pa_n or 0) > 0 and (pb_n or 0) > 0,
              q)
    tt = (q or {}).get("totals") or {}
    ctx.check("query: totals.RTP and totals.RTCP hold packets/bytes/errors "
              "(what Kamailio's $rtpstat reads), RTP packets > 0",
              all(isinstance((tt.get(k) or {}).get(f), int)
                  for k in ("RTP", "RTCP")
                  for f in ("packets", "bytes", "errors"))
              and (tot or 0) > 0, tt)
    li = relay.ng("list")
    calls = [s(c) for c in (li or {}).get("calls", [])]
    ctx.check("list: call-id listed", ng_ok(li) and callid in calls, li)

    # ---- re-offer: A moves to a new port ----
    A2 = Endpoint("A2")
    r = ng_offer(relay, callid, ftag, sdp_build(A2.port, version=2,
                                                 sess_id=4242),
                 to_tag=ttag)
    ctx.check("re-offer: result ok", ng_ok(r), r)
    ob2 = Sdp(s(r.get("sdp", b""))).audio() if ng_ok(r) else None
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, version=2,
                                                       sess_id=4343))
    ctx.check("re-answer: result ok", ng_ok(r), r)
    oa2 = Sdp(s(r.get("sdp", b""))).audio() if ng_ok(r) else None
    if not ob2 or not oa2:
        ctx.check("re-offer/answer SDPs parse", False, r)
        return
    if ob2["port"] != ob["port"] or oa2["port"] != oa["port"]:
        ctx.note("relay ports moved on re-offer: %d->%d, %d->%d"
                 % (ob["port"], ob2["port"], oa["port"], oa2["port"]))
    A.flush()
    Anat.flush()
    to_b_side = ("127.0.0.1", ob2["port"])
    to_a_side = ("127.0.0.1", oa2["port"])
    out_b = [sb.packet(bytes([i]) * 160) for i in range(10)]
    send_paced([[(Bnat.rtp, p, to_b_side)] for p in out_b])
    check_stream(ctx, "after re-offer B -> A goes to A's new port "
                 "(before A sent from it)", A2.recv(want=10, timeout=2),
                 out_b, oa2["port"])
    old = A.recv(timeout=0.3) + Anat.recv(timeout=0.01)
    ctx.check("after re-offer nothing goes to A's old (SDP or latched) "
              "port", not old, len(old))
    out_a = [sa.packet(bytes([i]) * 160) for i in range(10)]
    send_paced([[(A2.rtp, p, to_a_side)] for p in out_a])
    check_stream(ctx, "after re-offer A(new port) -> B",
                 Bnat.recv(want=10, timeout=2), out_a, ob2["port"])

    # ---- delete frees everything ----
    # delete-delay 0 in the request (rtpengine's per-delete override; its
    # default, like mediad's delete_delay, is 30 s)
    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag,
                              "delete-delay": 0})
    ctx.check("delete (delete-delay 0): result ok", ng_ok(r), r)
    q = relay.ng("query", **{"call-id": callid, "from-tag": ftag})
    ctx.check("query after delete: error", ng_error(q), q)
    li = relay.ng("list")
    calls = [s(c) for c in (li or {}).get("calls", [])]
    ctx.check("list after delete: call-id gone",
              ng_ok(li) and callid not in calls, li)
    late = [sa.packet(b"\xff" * 160) for _ in range(5)]
    for p in late:
        A2.rtp.sendto(p, to_a_side)
        Bnat.rtp.sendto(p, to_b_side)
    got = Bnat.recv(timeout=0.5) + A2.recv(timeout=0.1)
    ctx.check("after delete nothing is relayed", not got, len(got))
    ports = sorted({ob["port"], ob["rtcp_port"], oa["port"], oa["rtcp_port"],
                    ob2["port"], ob2["rtcp_port"], oa2["port"],
                    oa2["rtcp_port"]})
    free = wait_until(lambda: all(udp_bindable(p) for p in ports), 3, 0.1)
    ctx.check("after delete the relay ports %s can be bound again" % ports,
              free, [p for p in ports if not udp_bindable(p)])
    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    ctx.check("second delete of the same call: ok with a 'warning' "
              "(rtpengine: Call-ID not found)",
              ng_ok(r) and bool(r.get("warning")), r)
    r = relay.ng("ping")
    ctx.check("relay still answers ping", r and s(r.get("result")) == "pong",
              r)
    for e in (A, A2, Anat, B, Bnat):
        e.close()

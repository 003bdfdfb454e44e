# tests/integration/media-srtp/expect.py  see README.md in this directory
import os
import struct

from media import (Endpoint, RtpStream, Sdp, ng_answer, ng_offer, ng_ok,
                   rtcp_rr, rtcp_types, rtp_parse, sdp_build, send_paced,
                   start_relay)
from sbctest import s
import srtp

N = 50
S80 = "AES_CM_128_HMAC_SHA1_80"
S32 = "AES_CM_128_HMAC_SHA1_32"


def savp_sdp(port, cryptos):
    """A phone's PCMU offer/answer over RTP/SAVP with <cryptos>
    [(tag, suite, keysalt)]."""
    extra = ["a=crypto:%d %s %s" % (t, su, srtp.sdes_params(k))
             for t, su, k in cryptos]
    return sdp_build(port, pts=(0,), extra=extra).replace(
        " RTP/AVP ", " RTP/SAVP ")


def cryptos_of(m):
    """[(tag, suite, params)] of an m= dict's a=crypto lines."""
    out = []
    for a in m["attrs"]:
        if a.startswith("crypto:"):
            f = a[7:].split(None, 2)
            if len(f) == 3 and f[0].isdigit():
                out.append((int(f[0]), f[1], f[2]))
    return out


def stats(relay):
    st = relay.ng("statistics") or {}
    return (st.get("statistics") or {}).get("mediad") or {}


def payloads(n):
    return [os.urandom(160) for _ in range(n)]


def check_plain(ctx, what, got, sent):
    """<got> [(bytes, addr)] is exactly the plain RTP packets <sent>."""
    want = {p["seq"]: p for p in (rtp_parse(x) for x in sent)}
    pk = [rtp_parse(d) for d, _ in got]
    ctx.check("%s: %d of %d packets arrived" % (what, len(pk), len(sent)),
              len(pk) == len(sent), len(pk))
    bad = [p for p in pk if not p or p["seq"] not in want or any(
        p[k] != want[p["seq"]][k] for k in ("pt", "ts", "ssrc", "payload"))]
    ctx.check("%s: plain RTP, seq/ts/SSRC/PT and payload intact" % what,
              pk and not bad, bad[:1])


def check_srtp(ctx, what, got, sent, rx, tag_len):
    """<got> is <sent> protected: each unprotects with <rx>."""
    want = {p["seq"]: p for p in (rtp_parse(x) for x in sent)}
    ctx.check("%s: %d of %d packets arrived" % (what, len(got), len(sent)),
              len(got) == len(sent), len(got))
    lens = sorted({len(d) - len(sent[0]) for d, _ in got})
    ctx.check("%s: %d-byte authentication tag" % (what, tag_len),
              lens == [tag_len], lens)
    clear = [rx.unprotect(d) for d, _ in got]
    ctx.check("%s: every packet authenticates with the key in the SDP"
              % what, got and all(c is not None for c in clear),
              sum(1 for c in clear if c is None))
    pk = [rtp_parse(c) for c in clear if c]
    bad = [p for p in pk if not p or p["seq"] not in want or any(
        p[k] != want[p["seq"]][k] for k in ("pt", "ts", "ssrc", "payload"))]
    ctx.check("%s: decrypts to what was sent (payload intact)" % what,
              pk and not bad, bad[:1])
    enc = [d for d, _ in got if rtp_parse(d) and rtp_parse(d)["payload"][
        :160] in {w["payload"] for w in want.values()}]
    ctx.check("%s: the payload on the wire is encrypted" % what, not enc,
              len(enc))


def srtp_to_plain(ctx, relay):
    callid = "srtp1-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "tagA-" + os.urandom(3).hex(), "tagB-" + os.urandom(3).hex()
    A, B = Endpoint("A"), Endpoint("B")
    ka80, ka32 = os.urandom(30), os.urandom(30)

    r = ng_offer(relay, callid, ftag,
                 savp_sdp(A.port, [(1, S80, ka80), (2, S32, ka32)]),
                 **{"transport-protocol": "RTP/AVP"})
    if not ctx.check("SAVP->AVP: offer with transport-protocol RTP/AVP: ok",
                     ng_ok(r), r):
        return
    mo = Sdp(s(r.get("sdp", b""))).audio()
    if not ctx.check("SAVP->AVP: offer to B has an audio m=", mo, r):
        return
    ctx.check("SAVP->AVP: offer to B is RTP/AVP without a=crypto",
              mo["proto"] == "RTP/AVP" and not cryptos_of(mo), mo)

    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, pts=(0,)))
    if not ctx.check("SAVP->AVP: plain answer from B: ok", ng_ok(r), r):
        return
    ma = Sdp(s(r.get("sdp", b""))).audio()
    if not ctx.check("SAVP->AVP: answer to A has an audio m=", ma, r):
        return
    cr = cryptos_of(ma)
    ctx.check("SAVP->AVP: answer to A is RTP/SAVP", ma["proto"] ==
              "RTP/SAVP", ma)
    if not ctx.check("SAVP->AVP: answer to A has one a=crypto, tag 1 %s"
                     % S80, len(cr) == 1 and cr[0][:2] == (1, S80), cr):
        return
    rx_a = srtp.SrtpContext.from_sdes(S80, cr[0][2])
    mine = srtp.SrtpContext(S80, ka80)
    ctx.check("SAVP->AVP: the relay's key is its own, not A's",
              rx_a.k_e != mine.k_e)

    to_a_side = ("127.0.0.1", ma["port"])
    to_b_side = ("127.0.0.1", mo["port"])
    tx_a = srtp.SrtpContext(S80, ka80)
    sa, sb = RtpStream(0), RtpStream(0)
    plain_a, plain_b, groups = [], [], []
    for pl_a, pl_b in zip(payloads(N), payloads(N)):
        pa, pb = sa.packet(pl_a), sb.packet(pl_b)
        plain_a.append(pa)
        plain_b.append(pb)
        groups.append([(A.rtp, tx_a.protect(pa), to_a_side),
                       (B.rtp, pb, to_b_side)])
    send_paced(groups)
    got_b = B.recv(want=N, timeout=2, idle=0.5)
    got_a = A.recv(want=N, timeout=2, idle=0.5)
    check_plain(ctx, "SAVP->AVP: A (SRTP) -> B", got_b, plain_a)
    check_srtp(ctx, "SAVP->AVP: B (plain) -> A", got_a, plain_b, rx_a, 10)

    # RTCP both ways
    rr_a = rtcp_rr(sa.ssrc, sb.ssrc, sb.seq)
    rr_b = rtcp_rr(sb.ssrc, sa.ssrc, sa.seq)
    A.rtcp.sendto(tx_a.protect_rtcp(rr_a), ("127.0.0.1", ma["rtcp_port"]))
    B.rtcp.sendto(rr_b, ("127.0.0.1", mo["rtcp_port"]))
    gb = B.recv("rtcp", want=1, timeout=2)
    ga = A.recv("rtcp", want=1, timeout=2)
    ctx.check("SAVP->AVP: A's SRTCP reaches B as the plain RTCP sent",
              len(gb) == 1 and gb[0][0] == rr_a, [d.hex() for d, _ in gb])
    ctx.check("SAVP->AVP: B's RTCP reaches A as SRTCP that authenticates "
              "and decrypts", len(ga) == 1 and rx_a.unprotect_rtcp(
                  ga[0][0]) == rr_b and ga[0][0][:8] == rr_b[:8]
              and len(ga[0][0]) == len(rr_b) + 14, [d.hex() for d, _ in ga])
    ctx.check("SAVP->AVP: B got RTCP types RR, SDES",
              gb and rtcp_types(gb[0][0]) == [201, 202], gb)

    # a tampered SRTP packet from A does not reach B
    before = stats(relay)
    t = bytearray(tx_a.protect(sa.packet(os.urandom(160))))
    t[30] ^= 0x40
    A.rtp.sendto(bytes(t), to_a_side)
    good = tx_a.protect(sa.packet(os.urandom(160)))
    A.rtp.sendto(good, to_a_side)
    got = B.recv(want=2, timeout=1, idle=0.5)
    ctx.check("SAVP->AVP: tampered SRTP dropped (B got only the good "
              "packet after it)", len(got) == 1, len(got))
    if relay.kind == "mediad":
        # rtpengine does not check replays: only mediad's relay is
        # expected to drop the second copy
        A.rtp.sendto(good, to_a_side)
        got = B.recv(want=1, timeout=1, idle=0.5)
        ctx.check("SAVP->AVP: replayed SRTP dropped", not got, len(got))
        after = stats(relay)
        ctx.check("SAVP->AVP: statistics srtpauthfailures +1",
                  after.get("srtpauthfailures", 0) -
                  before.get("srtpauthfailures", 0) == 1, after)
        ctx.check("SAVP->AVP: statistics srtpreplays +1",
                  after.get("srtpreplays", 0) -
                  before.get("srtpreplays", 0) == 1, after)

    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    ctx.check("SAVP->AVP: delete: ok", ng_ok(r), r)
    A.close()
    B.close()


def plain_to_srtp(ctx, relay):
    callid = "srtp2-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "tagA-" + os.urandom(3).hex(), "tagB-" + os.urandom(3).hex()
    A, B = Endpoint("A"), Endpoint("B")

    r = ng_offer(relay, callid, ftag, sdp_build(A.port, pts=(0,)),
                 **{"transport-protocol": "RTP/SAVP"})
    if not ctx.check("AVP->SAVP: offer with transport-protocol RTP/SAVP: "
                     "ok", ng_ok(r), r):
        return
    mo = Sdp(s(r.get("sdp", b""))).audio()
    if not ctx.check("AVP->SAVP: offer to B has an audio m=", mo, r):
        return
    cr = cryptos_of(mo)
    ctx.check("AVP->SAVP: offer to B is RTP/SAVP", mo["proto"] == "RTP/SAVP",
              mo)
    suites = [c[1] for c in cr]
    if not ctx.check("AVP->SAVP: offer to B has %s, then %s"
                     % (S80, S32), S80 in suites and S32 in suites and
                     suites.index(S80) < suites.index(S32), cr):
        return
    if relay.kind == "mediad":
        # rtpengine offers every suite it has (GCM, 256, 192, F8, NULL)
        ctx.check("AVP->SAVP: mediad offers exactly those two",
                  suites == [S80, S32], cr)
    tag32, p32 = [(c[0], c[2]) for c in cr if c[1] == S32][0]

    kb = os.urandom(30)
    r = ng_answer(relay, callid, ftag, ttag,
                  savp_sdp(B.port, [(tag32, S32, kb)]))
    if not ctx.check("AVP->SAVP: SRTP answer from B (the %s line): ok"
                     % S32, ng_ok(r), r):
        return
    ma = Sdp(s(r.get("sdp", b""))).audio()
    if not ctx.check("AVP->SAVP: answer to A has an audio m=", ma, r):
        return
    ctx.check("AVP->SAVP: answer to A is RTP/AVP without a=crypto",
              ma["proto"] == "RTP/AVP" and not cryptos_of(ma), ma)

    to_a_side = ("127.0.0.1", ma["port"])
    to_b_side = ("127.0.0.1", mo["port"])
    tx_b = srtp.SrtpContext(S32, kb)
    rx_b = srtp.SrtpContext.from_sdes(S32, p32)
    sa, sb = RtpStream(0), RtpStream(0)
    plain_a, plain_b, groups = [], [], []
    for pl_a, pl_b in zip(payloads(N), payloads(N)):
        pa, pb = sa.packet(pl_a), sb.packet(pl_b)
        plain_a.append(pa)
        plain_b.append(pb)
        groups.append([(A.rtp, pa, to_a_side),
                       (B.rtp, tx_b.protect(pb), to_b_side)])
    send_paced(groups)
    got_b = B.recv(want=N, timeout=2, idle=0.5)
    got_a = A.recv(want=N, timeout=2, idle=0.5)
    check_plain(ctx, "AVP->SAVP: B (SRTP) -> A", got_a, plain_b)
    check_srtp(ctx, "AVP->SAVP: A (plain) -> B", got_b, plain_a, rx_b, 4)

    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    ctx.check("AVP->SAVP: delete: ok", ng_ok(r), r)
    A.close()
    B.close()


ACK_ROUNDS = 100


def answer_then_send(ctx, relay):
    """Regression check for the NG acknowledgement: the reply to an
    answer means the worker has the answer. 100 times: A offers SRTP, B
    answers plain, and A's first SRTP packet leaves the moment the
    answer's reply is in; it must reach B. Before the acknowledgement
    mediad replied once the answer was queued to the worker, and a
    packet that beat the queue hop was dropped (no B address, no key)."""
    lost, failed = [], []
    for i in range(ACK_ROUNDS):
        callid = "srtpack-%d-%d-%s@test" % (os.getpid(), i,
                                             os.urandom(3).hex())
        ftag, ttag = "tagA-%d" % i, "tagB-%d" % i
        A, B = Endpoint("A"), Endpoint("B")
        ka = os.urandom(30)
        try:
            r = ng_offer(relay, callid, ftag, savp_sdp(A.port,
                                                       [(1, S80, ka)]),
                         **{"transport-protocol": "RTP/AVP"})
            if not ng_ok(r):
                failed.append(("offer", i, r))
                continue
            r = ng_answer(relay, callid, ftag, ttag,
                          sdp_build(B.port, pts=(0,)))
            ma = ng_ok(r) and Sdp(s(r.get("sdp", b""))).audio()
            if not ma:
                failed.append(("answer", i, r))
                continue
            pkt = RtpStream(0).packet(os.urandom(160))
            A.rtp.sendto(srtp.SrtpContext(S80, ka).protect(pkt),
                         ("127.0.0.1", ma["port"]))
            got = B.recv(want=1, timeout=0.5)
            if len(got) != 1 or got[0][0] != pkt:
                lost.append(i)
        finally:
            relay.ng("delete", **{"call-id": callid, "from-tag": ftag,
                                  "delete-delay": 0})
            A.close()
            B.close()
    ctx.check("ack: %d x offer, answer: every NG command ok"
              % ACK_ROUNDS, not failed, failed[:2])
    ctx.check("ack: %d x the first SRTP packet, sent as the answer's "
              "reply arrives, is relayed to B (lost in rounds %s)"
              % (ACK_ROUNDS, lost[:10]), not lost, len(lost))


def run(ctx):
    for what, ok in srtp.rfc3711_vectors():
        ctx.check("lib/srtp.py: RFC 3711 %s" % what, ok)
    relay = start_relay(ctx)
    if not relay:
        return
    srtp_to_plain(ctx, relay)
    plain_to_srtp(ctx, relay)
    answer_then_send(ctx, relay)

# tests/integration/media-transcode/expect.py  see README.md in this directory
import math
import os

from media import (Endpoint, RtpStream, Sdp, encode, frame_tone_stats,
                   median, ng_answer, ng_offer, ng_ok, rtp_parse, sdp_build,
                   send_paced, start_relay, tone)
from sbctest import s

N = 50
FREQ = 1000
AMP = 10000.0          # about -10 dBFS
MIN_SNR_DB = 20.0
MAX_LEVEL_DB = 2.0     # |level out - level in|


def check_tone(ctx, what, got, pt, law):
    pk = [p for p in (rtp_parse(d) for d, _ in got) if p]
    pts = sorted({p["pt"] for p in pk})
    ctx.check("%s: %d of %d packets arrived (>= 90%%)" % (what, len(pk), N),
              len(pk) >= N * 9 // 10, len(pk))
    ctx.check("%s: all packets are PT %d (%s)" % (what, pt, law),
              pk and pts == [pt], pts)
    pk.sort(key=lambda p: p["seq"])
    frames = [p["payload"] for p in pk if p["pt"] == pt]
    ctx.check("%s: 20 ms frames (160 bytes)" % what,
              frames and all(len(f) == 160 for f in frames),
              sorted({len(f) for f in frames}))
    st = frame_tone_stats(frames, law, FREQ)
    # the first frames may be codec start-up: judge the median frame and
    # require most frames to be clean
    snr = median([x[0] for x in st])
    amp = median([x[1] for x in st])
    good = sum(1 for x in st if x[0] > MIN_SNR_DB)
    ctx.note("%s: median SNR %.1f dB, amplitude %.0f (sent %.0f), %d/%d "
             "frames > %.0f dB" % (what, snr or 0, amp or 0, AMP, good,
                                   len(st), MIN_SNR_DB))
    ctx.check("%s: decodes as %s to a %d Hz tone, SNR > %.0f dB"
              % (what, law, FREQ, MIN_SNR_DB),
              snr is not None and snr > MIN_SNR_DB
              and good >= len(st) * 8 // 10, (snr, good, len(st)))
    lvl = 20 * math.log10(amp / AMP) if amp else -99
    ctx.check("%s: tone level within %.0f dB of what was sent"
              % (what, MAX_LEVEL_DB), abs(lvl) <= MAX_LEVEL_DB,
              "%.1f dB" % lvl)


def run(ctx):
    relay = start_relay(ctx)
    if not relay:
        return
    callid = "xcode-%d-%s@test" % (os.getpid(), os.urandom(4).hex())
    ftag, ttag = "tagA-" + os.urandom(3).hex(), "tagB-" + os.urandom(3).hex()
    A, B = Endpoint("A"), Endpoint("B")

    # A offers PCMU only and asks for PCMA to be offered to B as well
    r = ng_offer(relay, callid, ftag, sdp_build(A.port, pts=(0,)),
                 codec={"transcode": ["PCMA"]})
    if not ctx.check("offer with codec {transcode: [PCMA]}: ok", ng_ok(r),
                     r):
        return
    so = Sdp(s(r.get("sdp", b"")))
    a = so.audio()
    if not ctx.check("offer reply has an audio m= line", a is not None,
                     so.text):
        return
    ctx.check("offer reply keeps PCMU first and adds PCMA (0 8)",
              a["fmts"][:1] == [0] and 8 in a["fmts"]
              and (so.codec(8) or "").upper() == "PCMA/8000", so.text)

    # B accepts only PCMA
    r = ng_answer(relay, callid, ftag, ttag, sdp_build(B.port, pts=(8,)))
    if not ctx.check("answer with PCMA only: ok", ng_ok(r), r):
        return
    sa_ = Sdp(s(r.get("sdp", b"")))
    aa = sa_.audio()
    if not ctx.check("answer reply has an audio m= line", aa is not None,
                     sa_.text):
        return
    ctx.check("answer reply to A offers PCMU (what A can decode), "
              "not PCMA", aa["fmts"] and aa["fmts"][0] == 0
              and 8 not in aa["fmts"], sa_.text)

    to_b_side = ("127.0.0.1", a["port"])
    to_a_side = ("127.0.0.1", aa["port"])
    sa = RtpStream(0)
    sb = RtpStream(8)
    groups = []
    for i in range(N):
        x = tone(FREQ, 160, AMP, start=160 * i)
        groups.append([(A.rtp, sa.packet(encode(x, "PCMU")), to_a_side),
                       (B.rtp, sb.packet(encode(x, "PCMA")), to_b_side)])
    send_paced(groups)
    got_b = B.recv(want=N, timeout=2, idle=0.5)
    got_a = A.recv(want=N, timeout=2, idle=0.5)
    check_tone(ctx, "A (PCMU) -> B", got_b, 8, "PCMA")
    check_tone(ctx, "B (PCMA) -> A", got_a, 0, "PCMU")

    st = relay.ng("statistics")
    cur = ((st or {}).get("statistics") or {}).get("currentstatistics", {})
    ctx.check("statistics: currentstatistics.transcodedmedia >= 1 "
              "during the call", (cur.get("transcodedmedia") or 0) >= 1, cur)

    r = relay.ng("delete", **{"call-id": callid, "from-tag": ftag})
    ctx.check("delete: ok", ng_ok(r), r)
    A.close()
    B.close()

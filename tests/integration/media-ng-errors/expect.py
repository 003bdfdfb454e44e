# tests/integration/media-ng-errors/expect.py  see README.md in this directory
import os

from media import (Endpoint, Sdp, ng_answer, ng_error, ng_offer, ng_ok,
                   sdp_build, start_relay)
from sbctest import bdecode, s


def raw_reply(relay, cookie, body):
    """Send <cookie> SP <body>; the decoded reply dict or None."""
    r = relay.ng_raw(cookie + b" " + body)
    if r is None or not r.startswith(cookie + b" "):
        return None
    try:
        return bdecode(r[len(cookie) + 1:])
    except ValueError:
        return None


def check_err(ctx, what, r, known_cmd=True):
    """An error reply with a reason; for a command the relay knows, the
    reason must be about the request, not 'Unrecognized command'."""
    ok = ng_error(r)
    why = s(r["error-reason"]) if ok else ""
    if ok and known_cmd and "command" in why.lower() and (
            "unrecognized" in why.lower() or "unknown" in why.lower()):
        ok = False
    ctx.check("%s: error reply with a reason%s" % (
        what, " about the request" if known_cmd else ""), ok, r)
    if ok:
        ctx.note("%s: %s" % (what, why))
    return ok


def run(ctx):
    relay = start_relay(ctx)
    if not relay:
        return
    mediad = relay.kind == "mediad"
    tag = os.urandom(3).hex()
    A = Endpoint("A")
    good_sdp = sdp_build(A.port)

    r = raw_reply(relay, b"err-1-%s" % tag.encode(),
                  b"d7:command5:offer7:call-id3:abc3:sdp")
    check_err(ctx, "truncated bencode", r, known_cmd=False)
    r = raw_reply(relay, b"err-2-%s" % tag.encode(), b"i42e")
    check_err(ctx, "bencode that is not a dictionary", r, known_cmd=False)
    r = raw_reply(relay, b"err-3-%s" % tag.encode(), b"d3:foo3:bare")
    check_err(ctx, "dictionary without 'command'", r, known_cmd=False)

    r = relay.ng("offer", **{"from-tag": "a" + tag, "sdp": good_sdp})
    check_err(ctx, "offer without call-id", r)
    if mediad and ng_error(r):
        ctx.check("mediad: the reason names call-id",
                  b"call-id" in r["error-reason"].lower(), r)

    r = relay.ng("offer", **{"call-id": "nofrom-" + tag, "sdp": good_sdp})
    check_err(ctx, "offer without from-tag", r)

    r = relay.ng("offer", **{"call-id": "nosdp-" + tag,
                             "from-tag": "a" + tag})
    check_err(ctx, "offer without sdp", r)

    r = relay.ng("no-such-command-" + tag)
    check_err(ctx, "unknown command", r, known_cmd=False)

    bad_sdps = {
        "not SDP at all": "this is not an SDP body\r\n",
        "m= line with a non-numeric port":
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1"
            "\r\nt=0 0\r\nm=audio notaport RTP/AVP 0\r\n",
    }
    for what, body in bad_sdps.items():
        r = ng_offer(relay, "badsdp-%s-%d" % (tag, len(body)), "a" + tag,
                     body)
        check_err(ctx, "offer with a malformed SDP (%s)" % what, r)

    r = ng_answer(relay, "unknown-" + tag, "a" + tag, "b" + tag, good_sdp)
    check_err(ctx, "answer for an unknown call-id", r)

    r = relay.ng("query", **{"call-id": "unknown-" + tag})
    check_err(ctx, "query for an unknown call-id", r)

    # an unsupported key is ignored (both); an unsupported value is an
    # error naming it (SPEC, mediad only: rtpengine ignores bad values)
    cid = "unkkey-%s@test" % tag
    r = ng_offer(relay, cid, "a" + tag, good_sdp, **{"no-such-key": "x"})
    ctx.check("offer with an unknown key: ok (key ignored)", ng_ok(r), r)
    relay.ng("delete", **{"call-id": cid, "from-tag": "a" + tag,
                          "delete-delay": 0})
    cid = "badval-%s@test" % tag
    r = ng_offer(relay, cid, "a" + tag, good_sdp, ICE="bogus-value")
    if mediad:
        ok = check_err(ctx, "offer with ICE=bogus-value (unsupported value)",
                       r)
        ctx.check("mediad: the reason names the value",
                  ok and b"bogus-value" in r["error-reason"], r)
    else:
        ctx.note("skipped on rtpengine: it ignores an unsupported ICE "
                 "value (result %s); SPEC wants an error naming it"
                 % s((r or {}).get("result")))
    relay.ng("delete", **{"call-id": cid, "from-tag": "a" + tag,
                          "delete-delay": 0})

    # still serving
    r = relay.ng("ping")
    ctx.check("after all that, ping still pongs",
              r and s(r.get("result")) == "pong", r)
    callid = "good-%s@test" % tag
    r = ng_offer(relay, callid, "a" + tag, good_sdp)
    ctx.check("a normal offer still works", ng_ok(r), r)
    a = Sdp(s(r.get("sdp", b""))).audio() if ng_ok(r) else None
    ctx.check("... and returns a relay port", a and a["port"] > 0
              and a["port"] != A.port, r)
    r = relay.ng("delete", **{"call-id": callid, "from-tag": "a" + tag})
    ctx.check("delete of the one-sided call: ok", ng_ok(r), r)
    A.close()
    if relay.running():
        ctx.check("relay process still running", True)
    else:
        ctx.check("relay process still running", False, relay.tail())

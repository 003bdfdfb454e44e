# tests/integration/api-dashboard/expect.py  see README.md in this directory
import json
import os
import re
import signal
import subprocess
import sys

from cdp import CHROMIUM, Browser, CdpError  # noqa: E402
from sbctest import SRC_ROOT, wait_until  # noqa: E402
from siptest import (DOMAIN, MediaEp, SipEnv, Sipp, find,  # noqa: E402
                     free_udp_port, register, skip_without_tools)

SBCCTL = os.path.join(SRC_ROOT, "tools", "sbcctl")
PW = {"ann": "ann-pw-%d" % os.getpid(), "ben": "ben-pw-%d" % os.getpid()}
STATIC = {
    "/": "text/html; charset=utf-8",
    "/index.html": "text/html; charset=utf-8",
    "/app.js": "text/javascript; charset=utf-8",
    "/style.css": "text/css; charset=utf-8",
    "/favicon.svg": "image/svg+xml",
}


class Ctl:
    """tools/sbcctl against the scenario's sbc."""

    def __init__(self, ctx, sbc):
        self.ctx = ctx
        self.url = "http://127.0.0.1:%d" % sbc.api_port
        self.token = sbc.token

    def __call__(self, *args, token=True, stdin=None):
        env = dict(os.environ)
        env.pop("SBC_API_URL", None)
        env["SBC_API_TOKEN"] = self.token if token else ""
        p = subprocess.run([sys.executable, SBCCTL, "--url", self.url]
                           + list(args), capture_output=True, text=True,
                           input=stdin, env=env, timeout=30)
        return p.returncode, p.stdout, p.stderr

    def ok(self, what, *args, want=(), **kw):
        """sbcctl <args> must exit 0 and print every string of <want>."""
        rc, out, err = self(*args, **kw)
        self.ctx.check("sbcctl %s" % what, rc == 0 and all(
            w in out for w in want), "rc %s\n%s%s" % (rc, out, err))
        return out

    def fails(self, what, *args, want=(), **kw):
        """sbcctl <args> must exit 1 with every string of <want> on
        stderr, in one line that starts with 'sbcctl: '."""
        rc, out, err = self(*args, **kw)
        self.ctx.check("sbcctl %s" % what, rc == 1 and err.startswith(
            "sbcctl: ") and err.count("\n") == 1 and all(
                w in err for w in want), "rc %s\n%s%s" % (rc, out, err))
        return err


def check_static(ctx, sbc):
    """The dashboard's files: no auth, exact types, a 'self'-only CSP."""
    bodies = {}
    for path, ctype in STATIC.items():
        st, hd, body = sbc.http("GET", path)
        bodies[path] = body
        csp = hd.get("content-security-policy", "")
        ctx.check("GET %s without a token: 200 %s, CSP default-src 'self', "
                  "nosniff" % (path, ctype),
                  st == 200 and hd.get("content-type") == ctype
                  and "default-src 'self'" in csp
                  and "frame-ancestors 'none'" in csp
                  and "unsafe" not in csp and "http" not in csp
                  and hd.get("x-content-type-options") == "nosniff"
                  and len(body) > 100, (st, hd, len(body)))
    ctx.check("/ and /index.html are the same page",
              bodies["/"] == bodies["/index.html"])
    st, hd, body = sbc.http("HEAD", "/app.js")
    ctx.check("HEAD /app.js: 200, headers only",
              st == 200 and body == b""
              and hd.get("content-type", "").startswith("text/javascript"),
              (st, hd))
    st, hd, body = sbc.http("POST", "/", body="x")
    ctx.check("POST /: 405, Allow GET, HEAD, JSON error",
              st == 405 and hd.get("allow") == "GET, HEAD"
              and "error" in json.loads(body or b"{}"), (st, hd, body))
    st, hd, body = sbc.http("GET", "/nope.js")
    ctx.check("GET /nope.js: 404 JSON error", st == 404 and "error" in
              json.loads(body or b"{}"), (st, body))
    outside = [(p, m) for p, b in bodies.items() for m in re.findall(
        r"""(?:src|href|url)\s*[=(]\s*["']?\s*((?:https?:)?//[^"' )]+)""",
        b.decode(errors="replace"))]
    ctx.check("the dashboard loads nothing from another origin", not outside,
              outside)


def check_sbcctl_provisioning(ctx, ctl, trunk_port):
    rc, out, _ = ctl("--help")
    ctx.check("sbcctl --help: exit 0, lists the commands",
              rc == 0 and all(w in out for w in (
                  "trunk", "did", "subscriber", "route", "domain", "call",
                  "registration", "health", "--json", "--token")), out)
    ctl.fails("without a token: exit 1, the API's sentence and a hint",
              "subscriber", "list", token=False,
              want=("bearer token is required", "HTTP 401", "SBC_API_TOKEN"))
    ctl.ok("health", "health", want=("status: ok", "mediad: up"))

    ctl.ok("trunk add", "trunk", "add", "carrier1", "--host", "127.0.0.2",
           "--port", str(trunk_port), "--inbound-cidr", "127.0.0.2",
           "--max-calls", "10", want=("name", "carrier1", "127.0.0.2"))
    ctl.fails("trunk add again: 409 with the API's sentence", "trunk",
              "add", "carrier1", "--host", "127.0.0.2", want=("HTTP 409",))
    ctl.fails("trunk add with a bad port: 400 naming the field", "trunk",
              "add", "carrier2", "--host", "127.0.0.2", "--port", "0",
              want=("'port'", "HTTP 400"))
    ctl.ok("trunk set keeps the other fields", "trunk", "set", "carrier1",
           "--max-cps", "5")
    rc, out, err = ctl("--json", "trunk", "show", "carrier1")
    doc = json.loads(out) if rc == 0 else {}
    ctx.check("sbcctl --json trunk show: the API's object after set",
              doc.get("max_cps") == 5 and doc.get("max_calls") == 10
              and doc.get("inbound_cidrs") == ["127.0.0.2"]
              and isinstance(doc.get("status"), dict), (rc, out, err))

    for u in ("ann", "ben"):
        ctl.ok("subscriber add %s (password from stdin)" % u, "subscriber",
               "add", "%s@%s" % (u, DOMAIN), "--password", "-",
               "--display-name", u.title(), stdin=PW[u] + "\n",
               want=("username", u))
    out = ctl.ok("subscriber list", "subscriber", "list",
                 want=("ann@" + DOMAIN, "ben@" + DOMAIN, "AOR"))
    ctx.check("no password in sbcctl's output",
              not any(p in out for p in PW.values()), out)
    ctl.ok("did add", "did", "add", "+4930123456", "--target",
           "ann@" + DOMAIN, "--trunk", "carrier1", "--description", "main",
           want=("4930123456",))
    ctl.ok("did list (plural noun, no verb)", "dids",
           want=("4930123456", "ann@" + DOMAIN, "carrier1"))
    ctl.fails("did add for an unknown trunk: 422", "did", "add", "4930999",
              "--target", "ann@" + DOMAIN, "--trunk", "nope",
              want=("HTTP 422",))
    ctl.ok("domain add", "domain", "add", "other.example",
           want=("other.example",))
    ctl.ok("domain list", "domain", "list", want=("other.example",))
    ctl.ok("domain delete", "domain", "delete", "other.example",
           want=("deleted",))
    rc, out, err = ctl("--json", "route", "add", "49", "--trunks",
                       "carrier1", "--strip", "2")
    rid = json.loads(out).get("id") if rc == 0 else None
    ctx.check("sbcctl route add: the new route with its id",
              isinstance(rid, int), (rc, out, err))
    ctl.ok("route list", "route", "list", want=("carrier1",))
    ctl.ok("route delete", "route", "delete", str(rid), want=("deleted",))
    ctl.fails("route delete again: 404", "route", "delete", str(rid),
              want=("HTTP 404",))
    ctl.ok("trunk list --json (options after the command)", "trunk", "list",
           "--json", want=('"carrier1"', '"status"'))


def start_call(ctx, env, label, ports):
    """ann calls ben (registered); the call stays up until someone hangs
    it up (call-callee-bye.xml waits for the BYE). Returns (ann, ben)
    sipps, or None when the call did not come up."""
    ma, mb = MediaEp("ann"), MediaEp("ben")
    ctx.media_eps = getattr(ctx, "media_eps", []) + [ma, mb]
    ben = Sipp(ctx, label + "-ben", "uas-answer.xml", port=ports["ben"],
               keys={"user": "ben"}, media=mb.addr, timeout=90)
    if not ctx.check("%s: ben's sipp listens" % label, ben.wait_bound(),
                     ben.tail()):
        return None
    ann = Sipp(ctx, label + "-ann", "call-callee-bye.xml",
               port=ports["ann"], remote=env.target, service="ben",
               auth=("ann", PW["ann"]), keys={"user": "ann"}, media=ma.addr,
               timeout=90)
    up = ben.wait_received("ACK", timeout=15)
    if not ctx.check("%s: the call is up (ben got the ACK)" % label, up,
                     ann.tail()):
        return None
    return ann, ben


def end_call(ctx, label, ann, ben):
    rc = ann.wait()
    ctx.check("%s: ann got the BYE and her sipp exited 0" % label,
              rc == 0 and find(ann.received(), "BYE "), ann.brief())
    rc = ben.finish()
    ctx.check("%s: ben got the BYE and his sipp exited 0" % label,
              rc == 0 and find(ben.received(), "BYE "), ben.brief())


# ---- the browser ---------------------------------------------------------------

DOM_CALLS = """JSON.stringify([...document.querySelectorAll('#calls tbody tr')]
  .map(tr => ({id: tr.dataset.call,
               from: tr.querySelector('.call-from').textContent,
               to: tr.querySelector('.call-to').textContent,
               state: tr.querySelector('.call-state').textContent,
               text: tr.textContent,
               button: (tr.querySelector('button.hangup') || {}).textContent})))"""

DOM_SIDE = """JSON.stringify({
  state: document.body.dataset.state,
  health: document.getElementById('health').textContent,
  mediad: document.getElementById('mediad').textContent,
  regs: [...document.querySelectorAll('#regs tbody .reg-aor')].map(e => e.textContent),
  trunks: [...document.querySelectorAll('#trunks tbody tr')].map(tr => ({
    name: tr.dataset.trunk,
    status: tr.querySelector('.trunk-status').textContent})),
  kActive: document.getElementById('k-active').textContent,
  charts: Object.fromEntries([...document.querySelectorAll('canvas')].map(c =>
    [c.id, {points: +c.dataset.points, last: c.dataset.last}])),
  loginShown: !document.getElementById('login').hidden,
  loginError: document.getElementById('login-error').textContent,
  calls: document.querySelectorAll('#calls tbody tr').length,
  callsEmptyShown: !document.getElementById('calls-empty').hidden,
  session: sessionStorage.getItem('sbc.token'),
  local: localStorage.getItem('sbc.token')})"""


def side(br):
    try:
        return json.loads(br.eval(DOM_SIDE))
    except (CdpError, TypeError, ValueError):
        return {}


def calls_in_dom(br):
    try:
        return json.loads(br.eval(DOM_CALLS))
    except (CdpError, TypeError, ValueError):
        return []


def enter_token(br, token):
    """Type <token> into the page's token field and press Connect."""
    br.eval("document.getElementById('token').focus(), true")
    br.type_text(token)
    br.eval("document.getElementById('connect').click(), true")


def check_browser(ctx, env, ports):
    sbc = env.sbc
    url = "http://127.0.0.1:%d/" % sbc.api_port
    br = Browser(ctx.dir, os.path.join(ctx.dir, "chromium.log"))
    ctx.owned.append(br)
    if not ctx.check("headless chromium: DevTools attached",
                     br.connect(), br.tail()):
        return
    ctx.check("the dashboard loads", br.navigate(url), br.tail())
    s = wait_until(lambda: side(br).get("state") == "auth" and side(br),
                   10, 0.2) or side(br)
    ctx.check("without a token the page asks for one and shows no data",
              s.get("loginShown") and s.get("calls") == 0
              and s.get("health") == "ok" and s.get("mediad") == "up", s)

    fails0 = sbc.metric("sbc_api_auth_failures_total") or 0
    enter_token(br, "wrong-" + sbc.token)
    s = wait_until(lambda: "not valid" in side(br).get("loginError", "")
                   and side(br), 10, 0.2) or side(br)
    ctx.check("a wrong token: the API's sentence on the page, asked again",
              s.get("loginShown") and s.get("session") is None, s)
    fails = (sbc.metric("sbc_api_auth_failures_total") or 0) - fails0
    ctx.check("a wrong token costs one failed authentication, not one per "
              "request of the poll (the API blocks after ten)", fails == 1,
              fails)
    br.pump(0.3)
    pre = br.problems()
    ctx.check("the only page errors so far are the 401 of the wrong token",
              all("status of 401" in p for p in pre), pre)
    br.events.clear()

    r = start_call(ctx, env, "call 1", ports)
    if not r:
        return
    ann, ben = r
    enter_token(br, sbc.token)

    def shown():
        c = calls_in_dom(br)
        return c if len(c) == 1 else None
    c = wait_until(shown, 10, 0.2) or calls_in_dom(br)
    c = c[0] if c else {}
    ctx.check("the live call is in the rendered page: ann -> ben, "
              "internal, answered",
              "ann@" in c.get("from", "") and "ben@" in c.get("to", "")
              and "internal" in c.get("text", "")
              and c.get("state") == "answered"
              and c.get("button") == "Hang up", c)
    _, _, api_calls = sbc.http("GET", "/api/v1/calls", token=sbc.token)
    api_calls = json.loads(api_calls or b"[]")
    ctx.check("the page's call id is the API's",
              len(api_calls) == 1 and c.get("id") == str(api_calls[0]["id"]),
              (c.get("id"), api_calls))

    # two scrapes make the first rate point; the active-calls graph has
    # a point per scrape
    s = wait_until(lambda: side(br).get("charts", {}).get(
        "c-cps", {}).get("points", 0) >= 1 and side(br), 10, 0.2) \
        or side(br)
    ch = s.get("charts", {})
    ctx.check("graphs drawn from /metrics: calls/s, active calls (last 1)",
              ch.get("c-cps", {}).get("points", 0) >= 1
              and ch.get("c-active", {}).get("points", 0) >= 2
              and ch.get("c-active", {}).get("last") == "1"
              and s.get("kActive") == "1", ch)
    ctx.check("the media packets/s graph has points (mediad_packets_total "
              "in /metrics)",
              ch.get("c-pps", {}).get("points", 0) >= 1, ch)
    ctx.check("registrations listed: ben",
              ("ben@" + DOMAIN) in s.get("regs", []), s.get("regs"))
    _, _, tr = sbc.http("GET", "/api/v1/trunks/carrier1", token=sbc.token)
    tr = json.loads(tr or b"{}")
    want = "up" if tr.get("status", {}).get("reachable") else "down"
    ctx.check("trunk carrier1 listed with the API's status (%s)" % want,
              {"name": "carrier1", "status": want} in s.get("trunks", []),
              s.get("trunks"))
    ctx.check("the token is kept in sessionStorage only (not remembered)",
              s.get("session") == sbc.token and s.get("local") is None,
              (s.get("session"), s.get("local")))
    try:
        br.screenshot(os.path.join(ctx.dir, "dashboard.png"))
    except CdpError as e:
        ctx.note("screenshot: %s" % e)

    # Hang up: the first click arms the button, the second sends DELETE
    br.eval("document.querySelector('#calls button.hangup').click(), true")
    c = calls_in_dom(br)
    ctx.check("Hang up asks for a second click (Confirm)",
              c and c[0].get("button") == "Confirm", c)
    br.eval("document.querySelector('#calls button.hangup').click(), true")
    end_call(ctx, "call 1 (hung up from the page)", ann, ben)
    s = wait_until(lambda: side(br).get("callsEmptyShown") and side(br), 10,
                   0.2) or side(br)
    ctx.check("the page shows no live call after the hang up",
              s.get("calls") == 0 and s.get("callsEmptyShown"), s)
    br.pump(0.5)
    bad = br.problems()
    ctx.check("no console error, exception or CSP violation in the page",
              not bad, bad[:5])
    br.stop()


def check_sbcctl_calls(ctx, env, ctl, ports):
    r = start_call(ctx, env, "call 2", ports)
    if not r:
        return
    ann, ben = r
    out = wait_until(lambda: (lambda o: "ann@" in o[1] and o)(ctl("call",
                                                                  "list")),
                     5, 0.2)
    ctx.check("sbcctl call list shows the live call",
              out and out[0] == 0 and "internal" in out[1]
              and "ben@" in out[1], out)
    rc, js, err = ctl("calls", "--json")
    calls = json.loads(js) if rc == 0 else []
    ctx.check("sbcctl --json calls: one call", len(calls) == 1, (rc, js, err))
    cid = str(calls[0]["id"]) if calls else "0"
    ctl.ok("call show", "call", "show", cid, want=("media", "answered"))
    ctl.ok("call hangup", "call", "hangup", cid, want=("hung up",))
    end_call(ctx, "call 2 (hung up with sbcctl)", ann, ben)
    ctl.fails("call hangup again: 404 'no call'", "call", "hangup", cid,
              want=("no call", "HTTP 404"))
    ctl.ok("registration list", "registrations", want=("ben@" + DOMAIN,))
    rc, out, err = ctl("--json", "cdr", "list", "--since", "1h")
    cdrs = json.loads(out) if rc == 0 else []
    ctx.check("sbcctl cdr list --since 1h: the calls' CDRs",
              len(cdrs) >= 1 and all(c["direction"] == "internal"
                                     for c in cdrs), (rc, out, err))


def run(ctx):
    if not skip_without_tools(ctx):
        return
    env = SipEnv(ctx)
    if not env.start():
        return
    sbc = env.sbc
    ctl = Ctl(ctx, sbc)
    check_static(ctx, sbc)
    check_sbcctl_provisioning(ctx, ctl, free_udp_port("127.0.0.2"))

    ports = {u: free_udp_port("127.0.0.1") for u in PW}
    r = register(ctx, "reg-ben", env, "ben", PW["ben"], port=ports["ben"])
    ctx.check("ben (provisioned with sbcctl) registers: 401, 200",
              r.rc == 0, r.brief())

    if CHROMIUM:
        check_browser(ctx, env, ports)
    else:
        ctx.note("chromium is not installed: the browser part is skipped")
    check_sbcctl_calls(ctx, env, ctl, ports)

    rc, _ = sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = env.med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

    if not CHROMIUM and not ctx.failed:
        # exit 77: meson reports a skip, not a pass without the browser
        ctx.cleanup()
        ctx.finish()
        sys.exit(77)

# tests/integration/api-provisioning/expect.py  see README.md in this directory
import hashlib
import http.client
import json
import os
import signal
import sqlite3
import time

from sbctest import SRC_ROOT, Mediad, Sbc, wait_until
from siptest import (MediaEp, SipEnv, Sipp, find, free_udp_port, register,
                     skip_without_tools)

SUB_PW = "Pw-%d-never-echoed" % os.getpid()
SUB_PW2 = "Pw2-%d-never-echoed" % os.getpid()
TRUNK_PW = "TrunkPw-%d-never-echoed" % os.getpid()
INJECT = "x'); DROP TABLE subscribers;-- \"q\" \\ \u00e9\u20ac"


class Api:
    """The REST API over real HTTP: every reply is kept so the scenario
    can check at the end that no password ever came back."""

    def __init__(self, ctx, sbc):
        self.ctx = ctx
        self.sbc = sbc
        self.replies = []

    def req(self, method, path, body=None, token=True, headers=None):
        st, hd, raw = self.sbc.http(method, path, body=body,
                                    token=self.sbc.token if token else None,
                                    headers=headers)
        self.replies.append(raw)
        doc = None
        if raw:
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = None
        return st, hd, doc

    def expect(self, what, method, path, body=None, status=200, **kw):
        """One request that must answer <status>; an error status must
        come with {"error": sentence} (and <word> in it when given)."""
        word = kw.pop("word", None)
        st, hd, doc = self.req(method, path, body, **kw)
        ok = st == status
        if ok and status >= 400:
            ok = (isinstance(doc, dict) and isinstance(doc.get("error"), str)
                  and doc["error"] != ""
                  and hd.get("content-type", "").startswith(
                      "application/json"))
            if ok and word:
                ok = word in doc["error"]
        self.ctx.check(what, ok, "%s %s -> %s %r" % (method, path, st, doc))
        return st, hd, doc


def db(ctx):
    c = sqlite3.connect(os.path.join(ctx.dir, "sbc.db"), timeout=5)
    return c


def sql(ctx, q, args=()):
    c = db(ctx)
    try:
        rows = c.execute(q, args).fetchall()
        c.commit()
        return rows
    finally:
        c.close()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def sha256(s):
    return hashlib.sha256(s.encode()).hexdigest()


# ---- sections ------------------------------------------------------------

def check_basics(ctx, api):
    st, hd, doc = api.req("GET", "/api/v1/domains", token=False)
    ctx.check("no token: 401 with WWW-Authenticate",
              st == 401 and "www-authenticate" in hd, st)
    api.expect("unknown resource: 404", "GET", "/api/v1/nope", status=404)
    api.expect("/api/v1 itself: 404", "GET", "/api/v1", status=404)
    api.expect("unknown method on a collection: 405", "PATCH",
               "/api/v1/trunks", status=405)
    st, hd, _ = api.req("DELETE", "/api/v1/trunks")
    ctx.check("405 names the allowed methods in Allow",
              st == 405 and hd.get("allow") == "GET, POST", (st, hd))
    api.expect("GET on a DELETE-only item: 405", "GET",
               "/api/v1/domains/x.example", status=405)
    st, hd, doc = api.req("GET", "/api/v1/trunks")
    ctx.check("an empty list is [] with X-Total-Count 0",
              st == 200 and doc == [] and hd.get("x-total-count") == "0"
              and hd.get("content-type", "").startswith("application/json"),
              (st, hd, doc))


def check_domains(ctx, api):
    st, hd, doc = api.expect("POST domain: 201", "POST", "/api/v1/domains",
                             {"name": "Example.COM"}, 201)
    ctx.check("domain stored in lower case, Location points at it",
              doc == {"name": "example.com"}
              and hd.get("location") == "/api/v1/domains/example.com",
              (doc, hd))
    api.expect("duplicate domain (other case): 409", "POST",
               "/api/v1/domains", {"name": "example.com"}, 409,
               word="example.com")
    api.expect("domain with a bad name: 400", "POST", "/api/v1/domains",
               {"name": "bad_name..x"}, 400, word="'name'")
    api.expect("domain without name: 400", "POST", "/api/v1/domains", {},
               400, word="'name'")
    api.expect("domain with an unknown field: 400", "POST",
               "/api/v1/domains", {"name": "a.example", "x": 1}, 400,
               word="'x'")
    api.expect("second domain: 201", "POST", "/api/v1/domains",
               {"name": "other.example"}, 201)
    st, hd, doc = api.req("GET", "/api/v1/domains")
    ctx.check("domains listed in order",
              st == 200 and doc == [{"name": "example.com"},
                                    {"name": "other.example"}], doc)
    api.expect("delete unknown domain: 404", "DELETE",
               "/api/v1/domains/none.example", status=404)
    api.expect("delete domain: 204", "DELETE",
               "/api/v1/domains/other.example", status=204)


def check_subscribers(ctx, api):
    base = "/api/v1/subscribers"
    st, hd, doc = api.expect("POST subscriber: 201", "POST", base, {
        "username": "alice", "domain": "EXAMPLE.com", "password": SUB_PW,
        "display_name": "Alice", "caller_id": "+4930111"}, 201)
    ctx.check("subscriber reply: fields, no password, Location",
              doc == {"username": "alice", "domain": "example.com",
                      "display_name": "Alice", "caller_id": "+4930111",
                      "enabled": True}
              and hd.get("location") == base + "/alice@example.com",
              (doc, hd))
    rows = sql(ctx, "SELECT ha1_md5, ha1_sha256 FROM subscribers WHERE "
               "username = 'alice'")
    ctx.check("ha1_md5 in the DB is md5(user:domain:password)",
              rows and rows[0][0] == md5("alice:example.com:" + SUB_PW),
              rows)
    ctx.check("ha1_sha256 in the DB is sha256(user:domain:password)",
              rows and rows[0][1] == sha256("alice:example.com:" + SUB_PW),
              rows)

    api.expect("subscriber of a domain from sbc.conf: 201", "POST", base,
               {"username": "carol", "domain": "conf.example",
                "password": "x"}, 201)
    api.expect("subscriber of an unserved domain: 422", "POST", base,
               {"username": "bob", "domain": "nowhere.example",
                "password": "x"}, 422, word="'domain'")
    api.expect("duplicate subscriber: 409", "POST", base,
               {"username": "alice", "domain": "example.com",
                "password": "y"}, 409)
    api.expect("subscriber without password: 400", "POST", base,
               {"username": "dave", "domain": "example.com"}, 400,
               word="'password'")
    api.expect("subscriber with empty password: 400", "POST", base,
               {"username": "dave", "domain": "example.com",
                "password": ""}, 400, word="'password'")
    api.expect("subscriber with a bad username: 400", "POST", base,
               {"username": "da ve", "domain": "example.com",
                "password": "x"}, 400, word="'username'")
    api.expect("enabled as a string: 400", "POST", base,
               {"username": "dave", "domain": "example.com",
                "password": "x", "enabled": "true"}, 400, word="'enabled'")
    api.expect("enabled as 1: 400", "POST", base,
               {"username": "dave", "domain": "example.com",
                "password": "x", "enabled": 1}, 400, word="'enabled'")
    api.expect("display_name too long: 400", "POST", base,
               {"username": "dave", "domain": "example.com",
                "password": "x", "display_name": "d" * 200}, 400,
               word="'display_name'")
    api.expect("display_name with CR LF: 400", "POST", base,
               {"username": "dave", "domain": "example.com",
                "password": "x", "display_name": "a\r\nVia: evil"}, 400,
               word="'display_name'")

    st, _, doc = api.expect("GET subscriber by user@domain", "GET",
                            base + "/alice@example.com")
    ctx.check("GET subscriber: same object", doc and doc["username"] ==
              "alice" and "password" not in doc, doc)
    api.expect("GET subscriber, @ percent-encoded, domain in caps", "GET",
               base + "/alice%40Example.com")
    api.expect("GET unknown subscriber: 404", "GET",
               base + "/nobody@example.com", status=404)
    api.expect("GET subscriber key without @: 404", "GET",
               base + "/alice", status=404)

    # PUT replaces: the omitted caller_id falls back to its default,
    # the omitted password keeps the HA1s
    ha1 = sql(ctx, "SELECT ha1_md5, ha1_sha256 FROM subscribers WHERE "
              "username = 'alice'")
    st, _, doc = api.expect("PUT subscriber without password: 200", "PUT",
                            base + "/alice@example.com",
                            {"display_name": "Alice B", "enabled": False})
    ctx.check("PUT replaced the object",
              doc == {"username": "alice", "domain": "example.com",
                      "display_name": "Alice B", "caller_id": "",
                      "enabled": False}, doc)
    ctx.check("PUT without password kept both HA1s",
              sql(ctx, "SELECT ha1_md5, ha1_sha256 FROM subscribers WHERE "
                  "username = 'alice'") == ha1)
    api.expect("PUT subscriber with a new password: 200", "PUT",
               base + "/alice@example.com",
               {"username": "alice", "domain": "example.com",
                "password": SUB_PW2, "display_name": INJECT})
    rows = sql(ctx, "SELECT ha1_md5, display_name FROM subscribers WHERE "
               "username = 'alice'")
    ctx.check("PUT with password: new ha1_md5", rows and rows[0][0] ==
              md5("alice:example.com:" + SUB_PW2), rows)
    ctx.check("injection string in display_name stored verbatim (DB)",
              rows and rows[0][1] == INJECT, rows)
    _, _, doc = api.req("GET", base + "/alice@example.com")
    ctx.check("injection string in display_name stored verbatim (GET)",
              doc and doc.get("display_name") == INJECT, doc)
    api.expect("PUT changing the username: 422", "PUT",
               base + "/alice@example.com",
               {"username": "mallory"}, 422, word="'username'")
    api.expect("PUT unknown subscriber: 404", "PUT",
               base + "/nobody@example.com", {"display_name": "x"}, 404)
    api.expect("PUT with an empty password: 400", "PUT",
               base + "/alice@example.com", {"password": ""}, 400)

    api.expect("delete a domain that has subscribers: 409", "DELETE",
               "/api/v1/domains/example.com", status=409,
               word="subscriber")
    api.expect("DELETE subscriber: 204", "DELETE",
               base + "/carol@conf.example", status=204)
    api.expect("DELETE it again: 404", "DELETE",
               base + "/carol@conf.example", status=404)

    # the password is in no table, no WAL, no journal
    blob = b""
    for suffix in ("", "-wal", "-journal"):
        p = os.path.join(ctx.dir, "sbc.db" + suffix)
        if os.path.exists(p):
            with open(p, "rb") as f:
                blob += f.read()
    ctx.check("subscriber passwords appear nowhere in the database files",
              blob and SUB_PW.encode() not in blob
              and SUB_PW2.encode() not in blob)


def check_trunks(ctx, api):
    base = "/api/v1/trunks"
    full = {"name": "carrier1", "host": "192.0.2.10", "port": 5070,
            "transport": "tcp", "register": True, "username": "acct",
            "password": TRUNK_PW, "realm": "carrier.example",
            "inbound_cidrs": ["192.0.2.0/24", "2001:DB8::/32"],
            "max_calls": 30, "max_cps": 5, "priority": 1, "weight": 10,
            "codecs": ["PCMA", "PCMU"], "media": "srtp-sdes",
            "enabled": True}
    st, hd, doc = api.expect("POST trunk (every field): 201", "POST", base,
                             full, 201)
    want = dict(full)
    del want["password"]
    want["inbound_cidrs"] = ["192.0.2.0/24", "2001:db8::/32"]
    got = dict(doc or {})
    status = got.pop("status", None)
    ctx.check("trunk reply: every field, CIDRs canonical, no password",
              got == want and "password" not in (doc or {}), got)
    ctx.check("trunk reply: read-only status object",
              isinstance(status, dict)
              and set(status) == {"reachable", "registered", "active_calls"}
              and isinstance(status["reachable"], bool)
              and isinstance(status["active_calls"], int), status)
    ctx.check("trunk Location", hd.get("location") == base + "/carrier1",
              hd)

    st, _, doc = api.expect("POST minimal trunk: 201", "POST", base,
                            {"name": "c2", "host": "sip.example.net",
                             "enabled": False}, 201)
    ctx.check("trunk defaults: 5060 udp rtp weight 1 no register",
              doc and doc["port"] == 5060 and doc["transport"] == "udp"
              and doc["media"] == "rtp" and doc["weight"] == 1
              and doc["register"] is False and doc["inbound_cidrs"] == []
              and doc["codecs"] == [] and doc["max_calls"] == 0, doc)
    st, _, doc = api.expect("POST tls trunk: 201", "POST", base,
                            {"name": "c3", "host": "2001:db8::5",
                             "transport": "tls"}, 201)
    ctx.check("tls trunk defaults to port 5061", doc and doc["port"] == 5061,
              doc)

    api.expect("duplicate trunk: 409", "POST", base,
               {"name": "carrier1", "host": "192.0.2.11"}, 409)
    bad = [
        ("port 0", {"port": 0}, "'port'"),
        ("port 65536", {"port": 65536}, "'port'"),
        ("port as a string", {"port": "5060"}, "'port'"),
        ("port as a float", {"port": 5060.5}, "'port'"),
        ("transport sctp", {"transport": "sctp"}, "'transport'"),
        ("media srtp", {"media": "srtp"}, "'media'"),
        ("CIDR with host bits", {"inbound_cidrs": ["10.0.0.1/8"]},
         "'inbound_cidrs'"),
        ("CIDR not an address", {"inbound_cidrs": ["999.1.1.1"]},
         "'inbound_cidrs'"),
        ("CIDRs not a list", {"inbound_cidrs": "10.0.0.0/8"},
         "'inbound_cidrs'"),
        ("host with a space", {"host": "bad host"}, "'host'"),
        ("host with a port", {"host": "192.0.2.1:5060"}, "'host'"),
        ("register as 1", {"register": 1}, "'register'"),
        ("max_calls negative", {"max_calls": -1}, "'max_calls'"),
        ("codec with a space", {"codecs": ["PC MU"]}, "'codecs'"),
        ("unknown field", {"colour": "red"}, "'colour'"),
    ]
    for what, extra, word in bad:
        body = {"name": "t-bad", "host": "192.0.2.20"}
        body.update(extra)
        api.expect("trunk %s: 400" % what, "POST", base, body, 400,
                   word=word)
    api.expect("trunk name with a space: 400", "POST", base,
               {"name": "a b", "host": "192.0.2.20"}, 400, word="'name'")
    api.expect("trunk without host: 400", "POST", base, {"name": "t-bad"},
               400, word="'host'")
    api.expect("register without credentials: 422", "POST", base,
               {"name": "t-bad", "host": "192.0.2.20", "register": True},
               422, word="'register'")

    st, hd, doc = api.expect("GET trunk", "GET", base + "/carrier1")
    ctx.check("GET trunk shows status, never the password",
              doc and "status" in doc and "password" not in doc, doc)
    api.expect("GET unknown trunk: 404", "GET", base + "/nope", status=404)

    # GET, edit, PUT back (status included, password left out): the
    # stored password stays and register stays valid with it
    doc["max_calls"] = 60
    doc["codecs"] = ["PCMU"]
    st, _, put = api.expect("PUT trunk as GET returned it: 200", "PUT",
                            base + "/carrier1", doc)
    ctx.check("PUT trunk replaced the fields", put and
              put["max_calls"] == 60 and put["codecs"] == ["PCMU"], put)
    rows = sql(ctx, "SELECT password FROM trunks WHERE name = 'carrier1'")
    ctx.check("PUT without password kept the trunk password",
              rows == [(TRUNK_PW,)], rows)
    st, _, put = api.expect("PUT trunk with only host: defaults back",
                            "PUT", base + "/carrier1",
                            {"host": "192.0.2.12"})
    ctx.check("PUT replaces: omitted fields fall back to defaults",
              put and put["port"] == 5060 and put["register"] is False
              and put["inbound_cidrs"] == [] and put["codecs"] == [], put)
    api.expect("PUT trunk renaming it: 422", "PUT", base + "/carrier1",
               {"name": "other", "host": "192.0.2.12"}, 422, word="'name'")
    api.expect("PUT unknown trunk: 404", "PUT", base + "/nope",
               {"host": "192.0.2.12"}, 404)
    api.expect("PUT trunk with a bad field: 400", "PUT", base + "/carrier1",
               {"host": "192.0.2.12", "weight": -3}, 400, word="'weight'")
    api.expect("DELETE unknown trunk: 404", "DELETE", base + "/nope",
               status=404)


def check_dids(ctx, api):
    base = "/api/v1/dids"
    st, hd, doc = api.expect("POST DID: 201", "POST", base, {
        "number": "4930123456", "target": "alice@example.com",
        "trunk": "carrier1", "description": INJECT}, 201)
    ctx.check("DID reply and Location",
              doc == {"number": "4930123456", "target": "alice@example.com",
                      "trunk": "carrier1", "description": INJECT}
              and hd.get("location") == base + "/4930123456", (doc, hd))
    rows = sql(ctx, "SELECT description FROM dids WHERE number = "
               "'4930123456'")
    ctx.check("injection string in description stored verbatim (DB)",
              rows == [(INJECT,)], rows)
    st, _, doc = api.expect("POST DID to a sip: URI, no trunk: 201", "POST",
                            base, {"number": "4930999",
                                   "target": "sip:pbx@192.0.2.30:5080"},
                            201)
    ctx.check("DID without trunk shows trunk null",
              doc and doc["trunk"] is None, doc)
    for what, num in (("with +", "+4930123"), ("with a space", "49 30"),
                      ("of 16 digits", "1234567890123456"),
                      ("empty", ""), ("with letters", "49abc")):
        api.expect("DID number %s: 400" % what, "POST", base,
                   {"number": num, "target": "alice@example.com"}, 400,
                   word="'number'")
    api.expect("DID number as an integer: 400", "POST", base,
               {"number": 4930123, "target": "alice@example.com"}, 400,
               word="'number'")
    api.expect("DID with a bad target: 400", "POST", base,
               {"number": "4930555", "target": "not a uri"}, 400,
               word="'target'")
    api.expect("DID with an unknown trunk: 422", "POST", base,
               {"number": "4930555", "target": "alice@example.com",
                "trunk": "ghost"}, 422, word="'trunk'")
    api.expect("duplicate DID: 409", "POST", base,
               {"number": "4930123456", "target": "alice@example.com"}, 409)
    api.expect("GET DID", "GET", base + "/4930123456")
    api.expect("GET unknown DID: 404", "GET", base + "/4930000", status=404)
    st, _, doc = api.expect("PUT DID: 200", "PUT", base + "/4930999",
                            {"target": "bob@example.com",
                             "trunk": "carrier1"})
    ctx.check("PUT DID replaced it", doc == {
        "number": "4930999", "target": "bob@example.com",
        "trunk": "carrier1", "description": ""}, doc)
    api.expect("PUT DID with another number: 422", "PUT", base + "/4930999",
               {"number": "4930998", "target": "bob@example.com"}, 422)
    api.expect("PUT unknown DID: 404", "PUT", base + "/4930000",
               {"target": "bob@example.com"}, 404)


def check_routes(ctx, api):
    base = "/api/v1/routes"
    st, hd, doc = api.expect("POST route with two trunks: 201", "POST",
                             base, {"prefix": "49", "trunks": ["c3",
                                                              "carrier1"],
                                    "strip": 2, "prepend": "0",
                                    "priority": 5}, 201)
    rid = doc and doc.get("id")
    ctx.check("route reply keeps the failover order",
              doc and isinstance(rid, int) and doc["trunks"] ==
              ["c3", "carrier1"] and doc["prefix"] == "49"
              and doc["strip"] == 2 and doc["prepend"] == "0"
              and doc["priority"] == 5
              and hd.get("location") == "%s/%s" % (base, rid), (doc, hd))
    rows = sql(ctx, "SELECT pos, trunk FROM route_trunks WHERE route_id = ? "
               "ORDER BY pos", (rid,))
    ctx.check("route_trunks rows in failover order",
              rows == [(0, "c3"), (1, "carrier1")], rows)
    st, _, doc2 = api.expect("POST default route (empty prefix): 201",
                             "POST", base, {"trunks": ["c3"]}, 201)
    api.expect("route with an unknown trunk: 422", "POST", base,
               {"prefix": "1", "trunks": ["c3", "ghost"]}, 422,
               word="ghost")
    api.expect("route without trunks: 400", "POST", base, {"prefix": "1"},
               400, word="'trunks'")
    api.expect("route with an empty trunk list: 400", "POST", base,
               {"prefix": "1", "trunks": []}, 400, word="'trunks'")
    api.expect("route listing a trunk twice: 400", "POST", base,
               {"prefix": "1", "trunks": ["c3", "c3"]}, 400,
               word="'trunks'")
    api.expect("route prefix with +: 400", "POST", base,
               {"prefix": "+49", "trunks": ["c3"]}, 400, word="'prefix'")
    api.expect("route strip negative: 400", "POST", base,
               {"prefix": "1", "trunks": ["c3"], "strip": -1}, 400,
               word="'strip'")
    st, _, doc = api.req("GET", base)
    ctx.check("routes listed by id with their trunks",
              st == 200 and [r["id"] for r in doc] == sorted(
                  r["id"] for r in doc) and len(doc) == 2
              and doc[0]["trunks"] == ["c3", "carrier1"], doc)
    api.expect("PUT on a route: 405", "PUT", "%s/%s" % (base, rid),
               {"trunks": ["c3"]}, 405)
    api.expect("DELETE route 'abc': 404", "DELETE", base + "/abc",
               status=404)
    api.expect("DELETE unknown route: 404", "DELETE", base + "/999999",
               status=404)

    # trunks in use cannot go
    api.expect("DELETE trunk used by a route and a DID: 409", "DELETE",
               "/api/v1/trunks/carrier1", status=409, word="route")
    api.expect("DELETE route: 204", "DELETE", "%s/%s" % (base, rid),
               status=204)
    ctx.check("its route_trunks rows went with it",
              sql(ctx, "SELECT count(*) FROM route_trunks WHERE "
                  "route_id = ?", (rid,)) == [(0,)])
    api.expect("DELETE trunk still used by a DID: 409", "DELETE",
               "/api/v1/trunks/carrier1", status=409, word="DID")
    api.expect("DELETE the DIDs", "DELETE", "/api/v1/dids/4930123456",
               status=204)
    api.expect("DELETE the other DID", "DELETE", "/api/v1/dids/4930999",
               status=204)
    api.expect("DELETE trunk no longer used: 204", "DELETE",
               "/api/v1/trunks/carrier1", status=204)
    api.expect("DELETE trunk c3 still used by the default route: 409",
               "DELETE", "/api/v1/trunks/c3", status=409)


def check_blocklist(ctx, api):
    base = "/api/v1/blocklist"
    st, hd, doc = api.expect("POST number entry: 201", "POST", base,
                             {"entry": "4919000666", "reason": INJECT}, 201)
    ctx.check("entry reply with created_at (unix ms)",
              doc and doc["entry"] == "4919000666" and doc["reason"] ==
              INJECT and abs(doc["created_at"] - time.time() * 1000) <
              120000, doc)
    api.expect("POST IPv4 CIDR: 201", "POST", base,
               {"entry": "198.51.100.0/24", "reason": "scanner"}, 201)
    st, hd, doc = api.expect("POST IPv6 CIDR in caps: 201", "POST", base,
                             {"entry": "2001:DB8:0:0::/48"}, 201)
    ctx.check("IPv6 entry stored canonical; Location encodes the /",
              doc and doc["entry"] == "2001:db8::/48"
              and hd.get("location") == base + "/2001:db8::%2F48",
              (doc, hd))
    api.expect("same network, other spelling: 409", "POST", base,
               {"entry": "2001:db8::/48"}, 409)
    for what, e in (("number with +", "+4919000666"),
                    ("CIDR with host bits", "198.51.100.1/24"),
                    ("a word", "spam"), ("empty", "")):
        api.expect("blocklist %s: 400" % what, "POST", base, {"entry": e},
                   400, word="'entry'")
    api.expect("DELETE CIDR by a raw path: 204", "DELETE",
               base + "/198.51.100.0/24", status=204)
    api.expect("DELETE CIDR by %2F, other spelling: 204", "DELETE",
               base + "/2001:DB8:0::%2F48", status=204)
    api.expect("DELETE it again: 404", "DELETE", base + "/2001:db8::/48",
               status=404)
    _, _, doc = api.req("GET", base)
    ctx.check("blocklist holds the number only",
              [e["entry"] for e in doc or []] == ["4919000666"], doc)


def check_bodies(ctx, api):
    base = "/api/v1/domains"
    bad = [
        ("truncated JSON", b'{"name": "a.example"'),
        ("trailing garbage", b'{"name": "a.example"} x'),
        ("duplicate keys", b'{"name": "a.example", "name": "b.example"}'),
        ("single quotes", b"{'name': 'a.example'}"),
        ("an array body", b'["a.example"]'),
        ("a string body", b'"a.example"'),
        ("invalid UTF-8", b'{"name": "a\xff.example"}'),
        ("a \\u0000 escape", b'{"name": "a\\u0000.example"}'),
        ("deep nesting", b"[" * 100 + b"]" * 100),
        ("an empty body", b""),
    ]
    for what, raw in bad:
        api.expect("body with %s: 400" % what, "POST", base, raw, 400,
                   headers={"Content-Type": "application/json"})

    # 413: declared, and streamed without a length
    big = b'{"name": "' + b"a" * (65 * 1024) + b'"}'
    api.expect("body over 64 KiB: 413", "POST", base, big, 413)

    c = http.client.HTTPConnection("127.0.0.1", api.sbc.api_port, timeout=10)
    try:
        c.request("POST", base, body=iter([big[i:i + 8192] for i in
                                           range(0, len(big), 8192)]),
                  headers={"Authorization": "Bearer " + api.sbc.token,
                           "Content-Type": "application/json"},
                  encode_chunked=True)
        r = c.getresponse()
        st, raw = r.status, r.read()
    except OSError as e:
        st, raw = None, repr(e)
    finally:
        c.close()
    ctx.check("chunked body over 64 KiB: 413", st == 413, (st, raw))
    api.expect("API still serves after the big bodies", "GET", base)


def check_paging(ctx, api):
    # 150 domains straight into the table (sbc holds the DB open: WAL)
    c = db(ctx)
    c.executemany("INSERT INTO domains (name) VALUES (?)",
                  [("p%03d.example" % i,) for i in range(150)])
    c.commit()
    c.close()
    total = sql(ctx, "SELECT count(*) FROM domains")[0][0]
    st, hd, doc = api.req("GET", "/api/v1/domains")
    ctx.check("default page is 100 items, X-Total-Count the whole",
              st == 200 and len(doc) == 100
              and hd.get("x-total-count") == str(total), (st, hd))
    pages = []
    for off in range(0, total, 40):
        st, hd, doc = api.req("GET", "/api/v1/domains?limit=40&offset=%d"
                              % off)
        pages += [d["name"] for d in doc or []]
    _, _, every = api.req("GET", "/api/v1/domains?limit=1000")
    ctx.check("pages of 40 concatenate to the whole list, sorted",
              pages == [d["name"] for d in every] and pages ==
              sorted(pages) and len(pages) == total, len(pages))
    _, _, doc = api.req("GET", "/api/v1/domains?limit=10&offset=%d" % total)
    ctx.check("offset past the end: empty page", doc == [], doc)
    for q in ("limit=0", "limit=1001", "limit=-1", "limit=abc", "offset=-1",
              "offset=1x", "limit=", "colour=red"):
        api.expect("list with ?%s: 400" % q, "GET",
                   "/api/v1/domains?" + q, status=400)
    sql(ctx, "DELETE FROM domains WHERE name LIKE 'p___.example'")


def check_registrations(ctx, api):
    st, hd, doc = api.expect("GET registrations", "GET",
                             "/api/v1/registrations")
    ctx.check("registrations: the 3 stored contacts, sorted by AOR",
              doc and [r["aor"] for r in doc] ==
              ["alice@example.com", "alice@example.com", "bob@example.com"]
              and hd.get("x-total-count") == "3", doc)
    r = doc[0] if isinstance(doc, list) and doc else {}
    ctx.check("registration fields",
              r.get("contact") == "sip:alice@192.0.2.50:5060"
              and r.get("source") == "192.0.2.50:5060"
              and r.get("transport") == "udp"
              and r.get("user_agent") == "Phone 1.0 'x\""
              and isinstance(r.get("expires"), int)
              and 3000 < r["expires"] <= 3600, r)
    _, _, doc = api.req("GET", "/api/v1/registrations?aor=bob@example.com")
    ctx.check("registrations ?aor= filters",
              doc and len(doc) == 1 and doc[0]["transport"] == "tcp", doc)
    _, hd, doc = api.req("GET", "/api/v1/registrations?limit=1&offset=1")
    ctx.check("registrations page 2 of size 1",
              doc and len(doc) == 1 and doc[0]["contact"] ==
              "sip:alice@192.0.2.51:5062" and hd.get("x-total-count") ==
              "3", doc)
    api.expect("POST registrations: 405", "POST", "/api/v1/registrations",
               {}, 405)


def check_cdrs(ctx, api):
    t0 = 1700000000000
    c = db(ctx)
    for i in range(3):
        c.execute("INSERT INTO cdrs (call_id, from_uri, to_uri, direction, "
                  "trunk, started_at, answered_at, ended_at, duration_s, "
                  "result, hangup_side) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                  "?, ?, ?)",
                  ("call-%d" % i, "sip:alice@example.com",
                   "sip:4930%d@example.com" % i,
                   ("internal", "inbound", "outbound")[i],
                   None if i == 0 else "c3", t0 + i * 1000,
                   None if i == 1 else t0 + i * 1000 + 500,
                   t0 + i * 1000 + 900, i, 200 if i != 1 else 486,
                   "caller"))
    c.commit()
    c.close()
    st, hd, doc = api.expect("GET cdrs", "GET", "/api/v1/cdrs")
    ctx.check("cdrs oldest first with every field",
              doc and [d["call_id"] for d in doc] ==
              ["call-0", "call-1", "call-2"]
              and set(doc[0]) == {"id", "call_id", "from", "to",
                                  "direction", "trunk", "started_at",
                                  "answered_at", "ended_at", "duration_s",
                                  "result", "hangup_side"}
              and doc[0]["trunk"] is None and doc[1]["answered_at"] is None
              and doc[1]["result"] == 486 and doc[2]["started_at"] ==
              t0 + 2000, doc)
    _, hd, doc = api.req("GET", "/api/v1/cdrs?since=%d&until=%d" %
                         (t0 + 1000, t0 + 2000))
    ctx.check("cdrs ?since= (inclusive) &until= (exclusive), unix ms",
              doc and [d["call_id"] for d in doc] == ["call-1"]
              and hd.get("x-total-count") == "1", doc)
    _, _, doc = api.req("GET", "/api/v1/cdrs?since=%d&limit=1" % t0)
    ctx.check("cdrs ?limit=1", doc and len(doc) == 1, doc)
    cid = doc and doc[0]["id"]
    _, _, one = api.req("GET", "/api/v1/cdrs/%s" % cid)
    ctx.check("GET one cdr by id", one == doc[0], one)
    api.expect("GET unknown cdr: 404", "GET", "/api/v1/cdrs/99999",
               status=404)
    api.expect("cdrs ?since=yesterday: 400", "GET",
               "/api/v1/cdrs?since=yesterday", status=400, word="since")


def check_calls(ctx, api):
    st, hd, doc = api.expect("GET calls (none live)", "GET", "/api/v1/calls")
    ctx.check("calls: empty list", doc == [], doc)
    api.expect("GET unknown call: 404", "GET", "/api/v1/calls/12345",
               status=404)
    api.expect("DELETE unknown call: 404", "DELETE", "/api/v1/calls/12345",
               status=404)


def check_no_passwords(ctx, api):
    leaked = [i for i, raw in enumerate(api.replies)
              if any(p.encode() in raw for p in (SUB_PW, SUB_PW2, TRUNK_PW))
              or b'"password"' in raw or b"ha1" in raw]
    ctx.check("no reply of %d ever held a password or HA1" %
              len(api.replies), not leaked, leaked)


def check_live_call(ctx, api, med, sbc):
    """Subscribers provisioned through the API register with sipp (so the
    HA1s the API stored authenticate), ann calls ben, /api/v1/calls shows
    the call, DELETE hangs it up (BYE to both), its CDR and the two
    registrations are listed."""
    if not skip_without_tools(ctx):
        return
    env = SipEnv(ctx)
    env.med, env.sbc = med, sbc
    ctx.check("sbc sees mediad up", wait_until(
        lambda: sbc.health()[1].get("mediad") == "up", 15, 0.1))
    pw = {"ann": "ann-pw-%d" % os.getpid(), "ben": "ben-pw-%d" % os.getpid()}
    ports = {u: free_udp_port("127.0.0.1") for u in pw}
    for u in pw:
        api.expect("POST subscriber %s for the call" % u, "POST",
                   "/api/v1/subscribers", {"username": u,
                                           "domain": "example.com",
                                           "password": pw[u]}, 201)
        r = register(ctx, "reg-" + u, env, u, pw[u], port=ports[u])
        ctx.check("%s (provisioned through the API) registers: 401, 200"
                  % u, r.rc == 0, r.brief())
    _, _, doc = api.req("GET", "/api/v1/registrations?aor=ann@example.com")
    ctx.check("GET registrations lists ann's live contact",
              isinstance(doc, list) and len(doc) == 1
              and doc[0]["source"] == "127.0.0.1:%d" % ports["ann"]
              and doc[0]["transport"] == "udp", doc)

    ma, mb = MediaEp("ann"), MediaEp("ben")
    ben = Sipp(ctx, "call-ben", "uas-answer.xml", port=ports["ben"],
               keys={"user": "ben"}, media=mb.addr)
    if not ctx.check("ben's sipp listens", ben.wait_bound(), ben.tail()):
        return
    ann = Sipp(ctx, "call-ann", "call-callee-bye.xml", port=ports["ann"],
               remote=env.target, service="ben", auth=("ann", pw["ann"]),
               keys={"user": "ann"}, media=ma.addr)
    up = ben.wait_received("ACK", timeout=15)
    ctx.check("the call is up (ben got the ACK)", up, ann.tail())

    def one_call():
        _, _, d = api.req("GET", "/api/v1/calls")
        return d if isinstance(d, list) and len(d) == 1 else None
    calls = wait_until(one_call, 5, 0.1) or []
    c = calls[0] if calls else {}
    ctx.check("GET calls: the call with its fields",
              isinstance(c.get("id"), int) and "ann" in c.get("from", "")
              and "ben" in c.get("to", "")
              and c.get("direction") == "internal" and c.get("trunk") is None
              and isinstance(c.get("started_at"), int)
              and isinstance(c.get("answered_at"), int), c)
    media = wait_until(lambda: api.req("GET", "/api/v1/calls/%s" %
                                       c.get("id"))[2].get("media"), 5, 0.2)
    ctx.check("GET calls/{id}: media counters of both sides",
              isinstance(media, dict) and set(media) == {"caller", "callee"}
              and isinstance(media["caller"].get("packets"), int), media)
    api.expect("DELETE calls/{id} hangs up: 204", "DELETE",
               "/api/v1/calls/%s" % c.get("id"), status=204)
    rc = ann.wait()
    ctx.check("ann got the BYE and ended cleanly", rc == 0 and
              find(ann.received(), "BYE "), ann.brief())
    rc = ben.finish()
    ctx.check("ben got the BYE and ended cleanly", rc == 0 and
              find(ben.received(), "BYE "), ben.brief())
    ma.close()
    mb.close()
    calls = wait_until(lambda: api.req("GET", "/api/v1/calls")[2] == [], 5,
                       0.1)
    ctx.check("GET calls: empty again", calls)
    api.expect("GET the hung-up call: 404", "GET",
               "/api/v1/calls/%s" % c.get("id"), status=404)
    _, _, doc = api.req("GET", "/api/v1/cdrs?since=%d" %
                        (c.get("started_at") or 0))
    ctx.check("GET cdrs: the call's CDR (internal, 200, answered)",
              isinstance(doc, list) and len(doc) == 1
              and doc[0]["direction"] == "internal"
              and doc[0]["result"] == 200
              and doc[0]["answered_at"] is not None
              and doc[0]["hangup_side"] != "", doc)


def check_rate_limit(ctx, api, sbc):
    """Last: it blocks 127.0.0.1 for a minute."""
    before = sbc.metric("sbc_api_auth_failures_total") or 0
    codes = [sbc.http("GET", "/api/v1/domains", token="wrong-%d" % i)[0]
             for i in range(11)]
    ctx.check("11 wrong tokens in a row: 401 each", codes == [401] * 11,
              codes)
    st, hd, _ = sbc.http("GET", "/api/v1/domains", token="wrong")
    ctx.check("the 12th failure from the address: 429 with Retry-After",
              st == 429 and 0 < int(hd.get("retry-after", "0")) <= 60,
              (st, hd))
    st, _, _ = sbc.http("GET", "/api/v1/domains", token=sbc.token)
    ctx.check("while blocked, even the right token gets 429", st == 429, st)
    st, _ = sbc.health()
    ctx.check("/health is not rate limited", st in (200, 503), st)
    n = sbc.metric("sbc_api_auth_failures_total")
    ctx.check("sbc_api_auth_failures_total counted the 11 failures",
              n is not None and n - before == 11, (before, n))
    n = sbc.metric("sbc_api_auth_limited_total")
    ctx.check("sbc_api_auth_limited_total counted the 429s",
              n is not None and n >= 2, n)


def check_openapi(ctx):
    """api/openapi.yaml documents every path this scenario drives."""
    paths = ["/health", "/metrics", "/api/v1/domains",
             "/api/v1/domains/{name}", "/api/v1/subscribers",
             "/api/v1/subscribers/{aor}", "/api/v1/trunks",
             "/api/v1/trunks/{name}", "/api/v1/dids",
             "/api/v1/dids/{number}", "/api/v1/routes",
             "/api/v1/routes/{id}", "/api/v1/blocklist",
             "/api/v1/blocklist/{entry}", "/api/v1/registrations",
             "/api/v1/cdrs", "/api/v1/cdrs/{id}", "/api/v1/calls",
             "/api/v1/calls/{id}"]
    with open(os.path.join(SRC_ROOT, "api", "openapi.yaml")) as f:
        text = f.read()
    missing = [p for p in paths if "\n  %s:\n" % p not in text]
    ctx.check("api/openapi.yaml has every path", not missing, missing)


def seed_registrations(ctx):
    exp = int(time.time()) + 3600
    rows = [("alice@example.com", "sip:alice@192.0.2.50:5060",
             "192.0.2.50:5060", "udp", "Phone 1.0 'x\"", exp),
            ("alice@example.com", "sip:alice@192.0.2.51:5062",
             "192.0.2.51:5062", "udp", "", exp),
            ("bob@example.com", "sip:bob@192.0.2.52:5060;transport=tcp",
             "192.0.2.52:5060", "tcp", "", exp)]
    sql(ctx, "DELETE FROM registrations")
    c = db(ctx)
    c.executemany("INSERT INTO registrations (aor, contact, source, "
                  "transport, user_agent, expires) VALUES (?, ?, ?, ?, ?, "
                  "?)", rows)
    c.commit()
    c.close()


def run(ctx):
    check_openapi(ctx)
    med = Mediad(ctx)
    med.start()
    ctx.check("mediad answers NG ping", med.wait_ready())

    # a first run creates the database; registrations are seeded into it
    # for the second, which loads them at start
    sbc = Sbc(ctx, med.ng_port, domains="conf.example")
    sbc.start()
    ctx.check("sbc ready (creates the database)", sbc.wait_ready())
    rc, _ = sbc.stop(signal.SIGTERM)
    ctx.check("sbc stops cleanly", rc == 0, rc)
    seed_registrations(ctx)

    sbc = Sbc(ctx, med.ng_port, domains="conf.example")
    sbc.start()
    ctx.check("sbc ready again", sbc.wait_ready())
    api = Api(ctx, sbc)

    check_basics(ctx, api)
    check_domains(ctx, api)
    check_subscribers(ctx, api)
    check_trunks(ctx, api)
    check_dids(ctx, api)
    check_routes(ctx, api)
    check_blocklist(ctx, api)
    check_bodies(ctx, api)
    check_paging(ctx, api)
    check_registrations(ctx, api)
    check_cdrs(ctx, api)
    check_calls(ctx, api)
    check_no_passwords(ctx, api)

    tables = {r[0] for r in sql(ctx, "SELECT name FROM sqlite_master "
                                "WHERE type = 'table'")}
    ctx.check("every table survived the injection strings",
              {"domains", "subscribers", "trunks", "dids", "routes",
               "route_trunks", "blocklist", "cdrs"} <= tables, tables)

    # provisioning is in the database: a restart keeps it
    rc, _ = sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    sbc = Sbc(ctx, med.ng_port, domains="conf.example")
    sbc.start()
    ctx.check("sbc ready after restart", sbc.wait_ready())
    api = Api(ctx, sbc)
    _, _, doc = api.req("GET", "/api/v1/subscribers/alice@example.com")
    ctx.check("subscriber still there after restart",
              doc and doc.get("display_name") == INJECT, doc)

    check_live_call(ctx, api, med, sbc)
    check_no_passwords(ctx, api)
    check_rate_limit(ctx, api, sbc)

    rc, _ = sbc.stop(signal.SIGTERM)
    ctx.check("sbc SIGTERM: exit 0", rc == 0, rc)
    rc, _ = med.stop(signal.SIGTERM)
    ctx.check("mediad SIGTERM: exit 0", rc == 0, rc)

# tests/integration/sip-tls/ua.py  a small SIP phone over TCP, TLS, WS and WSS
#
# sipp (Debian's sip-tester 3.6.1) is built without TLS and has no
# WebSocket, so the phones on those transports are this: one connection
# (a plain or ssl socket, or a lib/ws.py WebSocket) that carries every
# message both ways, as a phone behind NAT or a browser uses it. A reader
# thread collects what arrives (OPTIONS is answered 200 at once); the
# test thread waits for what it expects, with a bound on every wait.
# Digest: MD5, the first challenge the sbc offers (SPEC).

import hashlib
import os
import select
import socket
import ssl
import threading
import time

import ws


def rnd(n=8):
    return os.urandom(n).hex()


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


class Msg:
    """A parsed SIP message: .first (the start line), .hdrs [(name lower,
    value)], .body; .text is the whole message with LF line ends."""

    COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id",
               "m": "contact", "c": "content-type", "l": "content-length"}

    def __init__(self, raw):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) \
            else raw
        head, _, self.body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        self.first = lines[0]
        self.hdrs = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(":")
            if sep:
                k = k.strip().lower()
                self.hdrs.append((self.COMPACT.get(k, k), v.strip()))
        self.text = text.replace("\r\n", "\n")

    def hdr(self, name):
        for k, v in self.hdrs:
            if k == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.hdrs if k == name.lower()]

    @property
    def is_request(self):
        return not self.first.startswith("SIP/2.0 ")

    @property
    def status(self):
        return None if self.is_request else int(self.first.split()[1])

    @property
    def method(self):
        if self.is_request:
            return self.first.split()[0]
        return (self.hdr("cseq") or " ").split()[-1]

    @property
    def cseq(self):
        return int((self.hdr("cseq") or "0").split()[0])


def tag_of(value):
    for p in (value or "").split(";")[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "tag":
            return v.strip()
    return None


def uri_of(value):
    v = value or ""
    if "<" in v:
        return v[v.index("<") + 1:v.index(">")]
    return v.split(";")[0].strip()


# ---- connections ---------------------------------------------------------

class StreamConn:
    """SIP over a TCP or TLS socket: messages framed by Content-Length;
    a CRLF between messages is an RFC 5626 keepalive pong (counted)."""

    def __init__(self, host, port, tls_ctx=None, timeout=5.0):
        s = socket.create_connection((host, port), timeout)
        if tls_ctx is not None:
            s = tls_ctx.wrap_socket(s, server_hostname=host)
        self.sock = s
        self.lock = threading.Lock()   # see lib/ws.py: one at a time
        self.buf = b""
        self.pongs = 0
        self.local = s.getsockname()
        self.cert = s.getpeercert() if tls_ctx is not None else None

    def send(self, data):
        with self.lock:
            self.sock.settimeout(5)
            self.sock.sendall(data)

    def recv(self, timeout):
        """One message (bytes), None on timeout; raises ws.Closed at the
        end of the connection."""
        end = time.monotonic() + timeout
        while True:
            while self.buf.startswith(b"\r\n"):
                self.buf = self.buf[2:]
                self.pongs += 1
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = self.buf[:i].decode("utf-8", "replace")
                n = 0
                for ln in head.split("\r\n")[1:]:
                    k, _, v = ln.partition(":")
                    if k.strip().lower() in ("content-length", "l"):
                        n = int(v.strip() or 0)
                if len(self.buf) >= i + 4 + n:
                    m, self.buf = self.buf[:i + 4 + n], self.buf[i + 4 + n:]
                    return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            so = self.sock
            if not (isinstance(so, ssl.SSLSocket) and so.pending()) and \
                    not select.select([so], [], [], left)[0]:
                return None
            try:
                with self.lock:
                    so.settimeout(max(0.001, min(left, 1.0)))
                    d = so.recv(65536)
            except socket.timeout:
                continue
            except (ssl.SSLError, ConnectionError) as e:
                raise ws.Closed(None, str(e))
            if not d:
                raise ws.Closed(None, "TCP connection closed")
            self.buf += d

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class WsConn:
    """SIP over a lib/ws.py WebSocket: one message per text frame."""

    def __init__(self, wsock):
        self.ws = wsock
        self.local = wsock.sock.getsockname()
        self.pongs = 0

    def send(self, data):
        self.ws.send_text(data)

    def recv(self, timeout):
        try:
            op, payload = self.ws.recv_message(timeout)
        except socket.timeout:
            return None
        except OSError as e:
            raise ws.Closed(None, str(e))
        return payload

    def close(self):
        self.ws.close()


# ---- the phone -------------------------------------------------------------

class Dialog:
    def __init__(self, callid, ltag, rtag, lhdr, rhdr, target, routes):
        self.callid, self.ltag, self.rtag = callid, ltag, rtag
        self.lhdr, self.rhdr = lhdr, rhdr      # From/To values, no tag
        self.target = target
        self.routes = routes
        self.lseq = 1


class UA:
    """<user>@<domain> on connection <conn>. <tp> is the Via transport
    name (TLS, WS, ...), <via_host> what its Via and Contact name (a
    .invalid host or a private address: never used for routing)."""

    def __init__(self, name, conn, user, password, domain, tp, via_host,
                 contact):
        self.name = name
        self.conn = conn
        self.user, self.password, self.domain = user, password, domain
        self.tp, self.via_host, self.contact = tp, via_host, contact
        self.ip, self.port = conn.local[0], conn.local[1]
        self.callid_reg = rnd() + "@" + via_host.split(":")[0]
        self.reg_cseq = 0
        self.log = []            # ("sent"|"received", Msg)
        self.inbox = []
        self.cv = threading.Condition()
        self.closed = None       # ws.Closed once the connection ended
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    # ---- I/O ---------------------------------------------------------------

    def _read(self):
        while True:
            try:
                raw = self.conn.recv(0.2)
            except ws.Closed as e:
                with self.cv:
                    self.closed = e
                    self.cv.notify_all()
                return
            except OSError as e:
                with self.cv:
                    self.closed = ws.Closed(None, str(e))
                    self.cv.notify_all()
                return
            if raw is None:
                continue
            m = Msg(raw)
            with self.cv:
                self.log.append(("received", m))
            if m.is_request and m.method == "OPTIONS":
                self.reply(m, 200, "OK")
                continue
            with self.cv:
                self.inbox.append(m)
                self.cv.notify_all()

    def send(self, text):
        data = text.encode()
        with self.cv:
            self.log.append(("sent", Msg(data)))
        self.conn.send(data)

    def wait(self, pred, timeout=10):
        """The first message in the inbox matching <pred> (taken out), or
        None after <timeout> s or at the end of the connection."""
        end = time.monotonic() + timeout
        with self.cv:
            while True:
                for i, m in enumerate(self.inbox):
                    if pred(m):
                        return self.inbox.pop(i)
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.cv.wait(left)

    def wait_request(self, method, timeout=10, callid=None):
        return self.wait(lambda m: m.is_request and m.method == method and
                         (callid is None or m.hdr("call-id") == callid),
                         timeout)

    def wait_final(self, callid, cseq, timeout=10):
        return self.wait(lambda m: not m.is_request and m.status >= 200 and
                         m.hdr("call-id") == callid and m.cseq == cseq,
                         timeout)

    def received(self):
        with self.cv:
            return [m.text for w, m in self.log if w == "received"]

    def sent(self):
        with self.cv:
            return [m.text for w, m in self.log if w == "sent"]

    def close(self):
        self.conn.close()
        self.reader.join(3)

    # ---- building messages ---------------------------------------------------

    def via(self, branch=None):
        return "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n" % (
            self.tp, self.via_host, branch or rnd())

    def request(self, method, ruri, frm, to, callid, cseq, extra="",
                body="", ctype="application/sdp", branch=None,
                contact=True):
        msg = ("%s %s SIP/2.0\r\n" % (method, ruri) + self.via(branch) +
               "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
               "CSeq: %d %s\r\n" % (frm, to, callid, cseq, method) +
               ("Contact: <%s>\r\n" % self.contact if contact else "") +
               "User-Agent: sip-tls-ua\r\n" + extra +
               ("Content-Type: %s\r\n" % ctype if body else "") +
               "Content-Length: %d\r\n\r\n" % len(body.encode()) + body)
        self.send(msg)
        return msg

    def reply(self, req, code, reason, totag=None, body="", extra=""):
        to = req.hdr("to")
        if totag and not tag_of(to):
            to += ";tag=" + totag
        vias = "".join("Via: %s\r\n" % v for v in req.all("via"))
        rrs = "".join("Record-Route: %s\r\n" % v
                      for v in req.all("record-route"))
        msg = ("SIP/2.0 %d %s\r\n" % (code, reason) + vias + rrs +
               "From: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\n"
               % (req.hdr("from"), to, req.hdr("call-id"), req.hdr("cseq")) +
               ("Contact: <%s>\r\n" % self.contact if code < 300 and
                req.method != "BYE" else "") + extra +
               ("Content-Type: application/sdp\r\n" if body else "") +
               "Content-Length: %d\r\n\r\n" % len(body.encode()) + body)
        self.send(msg)

    def digest(self, challenge, method, uri):
        """Authorization value answering the MD5 challenge <challenge>."""
        kv = {}
        for part in challenge.split(" ", 1)[1].split(","):
            k, _, v = part.strip().partition("=")
            kv[k.strip().lower()] = v.strip().strip('"')
        ha1 = md5("%s:%s:%s" % (self.user, kv["realm"], self.password))
        ha2 = md5("%s:%s" % (method, uri))
        cnonce, nc = rnd(4), "00000001"
        if "auth" in kv.get("qop", "").split(","):
            resp = md5("%s:%s:%s:%s:auth:%s" % (ha1, kv["nonce"], nc,
                                                 cnonce, ha2))
            q = ', qop=auth, nc=%s, cnonce="%s"' % (nc, cnonce)
        else:
            resp = md5("%s:%s:%s" % (ha1, kv["nonce"], ha2))
            q = ""
        v = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
             'response="%s", algorithm=MD5%s'
             % (self.user, kv["realm"], kv["nonce"], uri, resp, q))
        if "opaque" in kv:
            v += ', opaque="%s"' % kv["opaque"]
        return v

    @staticmethod
    def md5_challenge(resp, name):
        for c in resp.all(name):
            if "sha-256" not in c.lower():
                return c
        return None

    # ---- REGISTER ------------------------------------------------------------

    def register(self, expires=300, timeout=5):
        """REGISTER, the 401, REGISTER with credentials. Returns
        (first response, final response); None for what did not come."""
        aor = "<sip:%s@%s>" % (self.user, self.domain)
        ruri = "sip:" + self.domain
        ftag = rnd(4)
        first = None
        auth = ""
        for _ in range(2):
            self.reg_cseq += 1
            self.request("REGISTER", ruri, aor + ";tag=" + ftag, aor,
                         self.callid_reg, self.reg_cseq,
                         "Expires: %d\r\n" % expires + auth, contact=True)
            r = self.wait_final(self.callid_reg, self.reg_cseq, timeout)
            if first is None:
                first = r
            if r is None or r.status != 401:
                return first, r
            ch = self.md5_challenge(r, "www-authenticate")
            auth = "Authorization: %s\r\n" % self.digest(ch, "REGISTER",
                                                          ruri)
        return first, r

    # ---- calls ----------------------------------------------------------------

    def call(self, callee, sdp, timeout=10):
        """INVITE <callee>@domain, the 407, ACK, INVITE with credentials,
        the 200, ACK. Returns (dialog, final response)."""
        ruri = "sip:%s@%s" % (callee, self.domain)
        callid = rnd() + "@" + self.via_host.split(":")[0]
        ftag = rnd(4)
        frm = '"%s" <sip:%s@%s>' % (self.user, self.user, self.domain)
        to = "<%s>" % ruri
        auth, cseq = "", 1
        for _ in range(2):
            branch = rnd()
            self.request("INVITE", ruri, frm + ";tag=" + ftag, to, callid,
                         cseq, auth, body=sdp, branch=branch)
            r = self.wait_final(callid, cseq, timeout)
            if r is None:
                return None, None
            if r.status != 407:
                break
            # ACK of a non-2xx: same branch, the To of the response
            self.request("ACK", ruri, frm + ";tag=" + ftag, r.hdr("to"),
                         callid, cseq, branch=branch, contact=False)
            ch = self.md5_challenge(r, "proxy-authenticate")
            auth = "Proxy-Authorization: %s\r\n" % self.digest(
                ch, "INVITE", ruri)
            cseq += 1
        if r.status >= 300:
            self.request("ACK", ruri, frm + ";tag=" + ftag, r.hdr("to"),
                         callid, cseq, branch=branch, contact=False)
            return None, r
        routes = list(reversed(r.all("record-route")))
        d = Dialog(callid, ftag, tag_of(r.hdr("to")), frm, to,
                   uri_of(r.hdr("contact")), routes)
        d.lseq = cseq
        self.ack(d, cseq)
        return d, r

    def _route_hdrs(self, d):
        return "".join("Route: %s\r\n" % r for r in d.routes)

    def ack(self, d, cseq):
        self.request("ACK", d.target, d.lhdr + ";tag=" + d.ltag,
                     d.rhdr + ";tag=" + d.rtag, d.callid, cseq,
                     self._route_hdrs(d), contact=False)

    def answer(self, sdp_for, timeout=10, ring=True):
        """Wait for an INVITE, answer 180 then 200 with sdp_for(offer
        Msg), wait for the ACK. Returns (dialog, INVITE, ACK)."""
        inv = self.wait_request("INVITE", timeout)
        if inv is None:
            return None, None, None
        ltag = rnd(4)
        if ring:
            self.reply(inv, 180, "Ringing", ltag)
        self.reply(inv, 200, "OK", ltag, body=sdp_for(inv))
        ack = self.wait_request("ACK", timeout, inv.hdr("call-id"))
        frm = inv.hdr("from")
        d = Dialog(inv.hdr("call-id"), ltag, tag_of(frm),
                   inv.hdr("to").split(";tag=")[0], frm.split(";tag=")[0],
                   uri_of(inv.hdr("contact")),
                   list(inv.all("record-route")))
        return d, inv, ack

    def answer_reinvite(self, d, sdp_for, timeout=10):
        """The next re-INVITE in <d>: 200 with sdp_for(offer), its ACK.
        Returns (INVITE, ACK)."""
        inv = self.wait_request("INVITE", timeout, d.callid)
        if inv is None:
            return None, None
        self.reply(inv, 200, "OK", body=sdp_for(inv))
        ack = self.wait_request("ACK", timeout, d.callid)
        return inv, ack

    def wait_bye(self, d, timeout=10):
        """The peer's BYE in <d>, answered 200."""
        bye = self.wait_request("BYE", timeout, d.callid)
        if bye is not None:
            self.reply(bye, 200, "OK")
        return bye

    def bye(self, d, timeout=10):
        """Our BYE in <d>; returns the final response."""
        d.lseq += 1
        self.request("BYE", d.target, d.lhdr + ";tag=" + d.ltag,
                     d.rhdr + ";tag=" + d.rtag, d.callid, d.lseq,
                     self._route_hdrs(d), contact=False)
        return self.wait_final(d.callid, d.lseq, timeout)


def sdp(ip, port, direction="sendrecv", sess="1001"):
    return ("v=0\r\no=- %s %s IN IP4 %s\r\ns=sip-tls\r\nc=IN IP4 %s\r\n"
            "t=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\na=%s\r\n"
            % (sess, sess, ip, ip, port, direction))


def answer_direction(offer_text):
    """The direction that answers an offer's a= line (RFC 3264 6.1)."""
    for d, a in (("sendonly", "recvonly"), ("recvonly", "sendonly"),
                 ("inactive", "inactive")):
        if "a=" + d in offer_text:
            return a
    return "sendrecv"


def tls_client_context(cafile=None):
    """A client context trusting <cafile> (the sbc's self-signed
    certificate), or none at all."""
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def make_cert(dirpath, cn="localhost"):
    """A self-signed certificate for 127.0.0.1/localhost made with the
    openssl CLI, as tools/run does: returns (pem with key + cert, cert
    alone) or None when openssl is missing."""
    import shutil
    import subprocess
    exe = shutil.which("openssl")
    if not exe:
        return None
    key = os.path.join(dirpath, "tls-key.pem")
    crt = os.path.join(dirpath, "tls-cert.pem")
    pem = os.path.join(dirpath, "tls.pem")
    subprocess.run([exe, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=30)
    with open(pem, "w") as f:
        f.write(open(key).read() + open(crt).read())
    os.chmod(pem, 0o600)
    return pem, crt

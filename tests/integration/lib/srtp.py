# tests/integration/lib/srtp.py  SRTP/SRTCP (RFC 3711) for the SDES tests
#
# AES_CM_128_HMAC_SHA1_80 and _32 (RFC 4568 section 6.2) with the default
# key derivation rate 0, no MKI: what mediad negotiates. Written from RFC
# 3711 sections 3-4 on python3's `cryptography` (AES in ECB for the
# counter blocks and the key derivation, HMAC-SHA1). One SrtpContext is
# one direction of one master key, like a libsrtp session: protect() on
# the sender's, unprotect() on the receiver's. The rollover counter is
# tracked per SSRC with RFC 3711 section 3.3.1's estimate; no replay
# list (the tests look for drops in mediad, not here).
#
# `python3 srtp.py` checks the RFC 3711 appendix B test vectors.

import base64
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SUITES = {
    # name: (SRTP tag bytes, SRTCP tag bytes)
    "AES_CM_128_HMAC_SHA1_80": (10, 10),
    "AES_CM_128_HMAC_SHA1_32": (4, 10),
}


def _aes_ecb(key):
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor()


def aes_cm_keystream(key, iv, n):
    """<n> bytes of AES counter mode keystream from 128-bit <iv> (RFC 3711
    section 4.1.1: the block counter is added to the low 16 bits)."""
    enc = _aes_ecb(key)
    base = int.from_bytes(iv, "big")
    out = bytearray()
    i = 0
    while len(out) < n:
        blk = ((base + i) % (1 << 128)).to_bytes(16, "big")
        out += enc.update(blk)
        i += 1
    return bytes(out[:n])


def kdf(master_key, master_salt, label, n, index=0):
    """RFC 3711 section 4.3.1 with key_derivation_rate 0: key_id = label
    || 48 zero bits, x = key_id XOR master_salt, output AES-CM(x * 2^16)."""
    salt = int.from_bytes(master_salt, "big")
    x = ((label << 48) | 0) ^ salt
    return aes_cm_keystream(master_key, (x << 16).to_bytes(16, "big"), n)


class SrtpContext:
    def __init__(self, suite, keysalt):
        if suite not in SUITES:
            raise ValueError("suite %r not supported" % suite)
        if len(keysalt) != 30:
            raise ValueError("AES_CM_128 needs 16 key + 14 salt bytes")
        mk, ms = keysalt[:16], keysalt[16:]
        self.suite = suite
        self.tag_len, self.rtcp_tag_len = SUITES[suite]
        self.k_e = kdf(mk, ms, 0, 16)
        self.k_a = kdf(mk, ms, 1, 20)
        self.k_s = kdf(mk, ms, 2, 14)
        self.kc_e = kdf(mk, ms, 3, 16)
        self.kc_a = kdf(mk, ms, 4, 20)
        self.kc_s = kdf(mk, ms, 5, 14)
        self.roc = {}          # ssrc -> (roc, highest seq)
        self.rtcp_index = {}   # ssrc -> next SRTCP index (sender)

    @classmethod
    def from_sdes(cls, suite, params):
        """From an a=crypto key-params "inline:<base64>[|...]"."""
        if not params.startswith("inline:"):
            raise ValueError("not inline: %r" % params)
        b64 = params[7:].split("|")[0].split()[0]
        return cls(suite, base64.b64decode(b64, validate=True))

    @staticmethod
    def _iv(salt, ssrc, index):
        v = (int.from_bytes(salt, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
        return v.to_bytes(16, "big")

    @staticmethod
    def _hdr_len(pkt):
        cc = pkt[0] & 0x0f
        off = 12 + 4 * cc
        if pkt[0] & 0x10:
            off += 4 + 4 * struct.unpack_from("!H", pkt, off + 2)[0]
        if off > len(pkt):
            raise ValueError("RTP header longer than the packet")
        return off

    def _estimate(self, ssrc, seq, update):
        """RFC 3711 section 3.3.1: the ROC for <seq>."""
        if ssrc not in self.roc:
            v = 0
            if update:
                self.roc[ssrc] = (0, seq)
            return v
        roc, s_l = self.roc[ssrc]
        if s_l < 32768:
            v = roc - 1 if seq - s_l > 32768 else roc
        else:
            v = roc + 1 if s_l - 32768 > seq else roc
        v &= 0xffffffff
        if update and ((v << 16) | seq) > ((roc << 16) | s_l):
            self.roc[ssrc] = (v, seq)
        return v

    def protect(self, pkt):
        pkt = bytes(pkt)
        hl = self._hdr_len(pkt)
        seq = struct.unpack_from("!H", pkt, 2)[0]
        ssrc = struct.unpack_from("!I", pkt, 8)[0]
        roc = self._estimate(ssrc, seq, True)
        index = (roc << 16) | seq
        ks = aes_cm_keystream(self.k_e, self._iv(self.k_s, ssrc, index),
                              len(pkt) - hl)
        body = pkt[:hl] + bytes(a ^ b for a, b in zip(pkt[hl:], ks))
        tag = hmac.new(self.k_a, body + struct.pack("!I", roc),
                       hashlib.sha1).digest()[:self.tag_len]
        return body + tag

    def unprotect(self, pkt):
        """The RTP packet, or None when the tag does not verify."""
        pkt = bytes(pkt)
        if len(pkt) < 12 + self.tag_len:
            return None
        body, tag = pkt[:-self.tag_len], pkt[-self.tag_len:]
        hl = self._hdr_len(body)
        seq = struct.unpack_from("!H", body, 2)[0]
        ssrc = struct.unpack_from("!I", body, 8)[0]
        roc = self._estimate(ssrc, seq, False)
        want = hmac.new(self.k_a, body + struct.pack("!I", roc),
                        hashlib.sha1).digest()[:self.tag_len]
        if not hmac.compare_digest(want, tag):
            return None
        self._estimate(ssrc, seq, True)
        index = (roc << 16) | seq
        ks = aes_cm_keystream(self.k_e, self._iv(self.k_s, ssrc, index),
                              len(body) - hl)
        return body[:hl] + bytes(a ^ b for a, b in zip(body[hl:], ks))

    def protect_rtcp(self, pkt):
        """RFC 3711 section 3.4: all but the first 8 bytes encrypted,
        E flag and 31-bit index appended, 80-bit tag."""
        pkt = bytes(pkt)
        ssrc = struct.unpack_from("!I", pkt, 4)[0]
        idx = self.rtcp_index.get(ssrc, 0)
        self.rtcp_index[ssrc] = (idx + 1) & 0x7fffffff
        ks = aes_cm_keystream(self.kc_e, self._iv(self.kc_s, ssrc, idx),
                              len(pkt) - 8)
        body = (pkt[:8] + bytes(a ^ b for a, b in zip(pkt[8:], ks))
                + struct.pack("!I", 0x80000000 | idx))
        return body + hmac.new(self.kc_a, body, hashlib.sha1).digest()[
            :self.rtcp_tag_len]

    def unprotect_rtcp(self, pkt):
        pkt = bytes(pkt)
        t = self.rtcp_tag_len
        if len(pkt) < 8 + 4 + t:
            return None
        body, tag = pkt[:-t], pkt[-t:]
        want = hmac.new(self.kc_a, body, hashlib.sha1).digest()[:t]
        if not hmac.compare_digest(want, tag):
            return None
        ei = struct.unpack_from("!I", body, len(body) - 4)[0]
        body = body[:-4]
        if not ei & 0x80000000:
            return body
        ssrc = struct.unpack_from("!I", body, 4)[0]
        ks = aes_cm_keystream(self.kc_e,
                              self._iv(self.kc_s, ssrc, ei & 0x7fffffff),
                              len(body) - 8)
        return body[:8] + bytes(a ^ b for a, b in zip(body[8:], ks))


def sdes_params(keysalt):
    return "inline:" + base64.b64encode(keysalt).decode()


def rfc3711_vectors():
    """[(what, ok)] for RFC 3711 appendix B.2 (AES-CM keystream) and B.3
    (key derivation)."""
    h = bytes.fromhex
    out = []
    ks = aes_cm_keystream(h("2B7E151628AED2A6ABF7158809CF4F3C"),
                          h("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), 48)
    out.append(("B.2 AES-CM keystream, counters 0000-0002",
                ks == h("E03EAD0935C95E80E166B16DD92B4EB4"
                        "D23513162B02D0F72A43A2FE4A5F97AB"
                        "41E95B3BB0A2E8DD477901E4FCA894C0")))
    mk = h("E1F97A0D3E018BE0D64FA32C06DE4139")
    ms = h("0EC675AD498AFEEBB6960B3AABE6")
    out.append(("B.3 cipher key", kdf(mk, ms, 0, 16)
                == h("C61E7A93744F39EE10734AFE3FF7A087")))
    out.append(("B.3 cipher salt", kdf(mk, ms, 2, 14)
                == h("30CBBC08863D8C85D49DB34A9AE1")))
    out.append(("B.3 auth key (first 160 bits)", kdf(mk, ms, 1, 20)
                == h("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")))
    return out


def _selftest():
    bad = [w for w, ok in rfc3711_vectors() if not ok]
    for suite in SUITES:
        ks = bytes(range(30))
        tx, rx = SrtpContext(suite, ks), SrtpContext(suite, ks)
        p = struct.pack("!BBHII", 0x80, 0, 65535, 1, 7) + b"x" * 160
        q = struct.pack("!BBHII", 0x80, 0, 0, 161, 7) + b"y" * 160
        for pkt in (p, q):
            if rx.unprotect(tx.protect(pkt)) != pkt:
                bad.append("%s round trip" % suite)
        r = struct.pack("!BBHII", 0x80, 201, 1, 7, 0)
        if rx.unprotect_rtcp(tx.protect_rtcp(r)) != r:
            bad.append("%s SRTCP round trip" % suite)
        t = bytearray(tx.protect(p))
        t[20] ^= 1
        if rx.unprotect(t) is not None:
            bad.append("%s tamper" % suite)
    print("srtp self-test:", "ok" if not bad else "FAILED %s" % bad)
    return not bad


if __name__ == "__main__":
    raise SystemExit(0 if _selftest() else 1)

# tests/integration/lib/rtpengine.py  Debian's rtpengine as a reference relay
#
# Runs /usr/bin/rtpengine (userspace only, no kernel table, no config
# file) on 127.0.0.1 with a free NG port and a private RTP port range,
# so the media scenarios can prove they encode rtpengine's own NG
# semantics. The object speaks the same interface as sbctest.Mediad:
# ng(), ng_raw(), wait_ready(), running(), stop(), tail(), name, logpath,
# and it registers itself in ctx.owned so Ctx.cleanup() stops our pid.

import os
import shutil

from sbctest import NgPeer, Process, free_port

RTPENGINE_BIN = os.environ.get("RTPENGINE_BIN",
                               shutil.which("rtpengine")
                               or "/usr/bin/rtpengine")


def available():
    return os.access(RTPENGINE_BIN, os.X_OK)


class RtpEngine(NgPeer, Process):
    kind = "rtpengine"

    def __init__(self, ctx, ports=200, timeout=None, extra=()):
        self.ng_port = free_port()
        self.port_min = free_port(even=True)
        self.port_max = self.port_min + ports - 1
        self.addr = ("127.0.0.1", self.ng_port)
        argv = [
            RTPENGINE_BIN, "--config-file=none", "--foreground",
            "--log-stderr", "--log-level=7", "--table=-1",
            "--interface=127.0.0.1",
            "--listen-ng=127.0.0.1:%d" % self.ng_port,
            "--port-min=%d" % self.port_min,
            "--port-max=%d" % self.port_max,
            "--num-threads=2",
        ]
        if timeout:
            argv.append("--timeout=%d" % timeout)
        argv += list(extra)
        super().__init__(ctx, "rtpengine", argv)

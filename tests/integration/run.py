#!/usr/bin/env python3
# tests/integration/run.py  run one scenario directory: its expect.py's run(ctx)
import importlib.util
import os
import sys
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "lib"))
import sbctest  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print("usage: run.py SCENARIO_DIR", file=sys.stderr)
        return 2
    sdir = os.path.abspath(sys.argv[1])
    for b in (sbctest.SBC_BIN, sbctest.MEDIAD_BIN):
        if not os.access(b, os.X_OK):
            print("missing binary %s" % b, file=sys.stderr)
            return 1
    spec = importlib.util.spec_from_file_location(
        "expect", os.path.join(sdir, "expect.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    ctx = sbctest.Ctx(sdir)
    try:
        mod.run(ctx)
    except Exception:
        traceback.print_exc()
        ctx.check("scenario ran to the end", False)
    finally:
        ctx.cleanup()
    return ctx.finish()


if __name__ == "__main__":
    sys.exit(main())

"""``python -m render.node --master HOST:PORT --node NAME --generation N``: one render node process.

The cluster token comes in the environment (``VPSTAGE_NODE_TOKEN``), not on the command line
where other users of the host could read it. A process on a GPU node sees only its own GPU
(``CUDA_VISIBLE_DEVICES`` set by the launcher). Exit codes: 0 stopped by the master, 3 master not
reachable, 4 the node could not be built, 5 a render failure ended it.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import logging
import os
import sys

TOKEN_ENV = "VPSTAGE_NODE_TOKEN"
PR_SET_TIMERSLACK = 29
SWITCH_INTERVAL_S = 0.00005
"""50 us (Python's default is 5 ms)."""


def tune_timing() -> None:
    """Wake-ups on time: 1 ns timer slack (Linux) and a short GIL switch interval. The present
    thread needs the GIL back from the render thread after its sleep and after each send (a
    foreign call that lets it go); each time it waits up to one interval, so the interval bounds
    how late a node's last send can be (the skew between nodes)."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the default slack
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m render.node", description=__doc__)
    parser.add_argument("--master", required=True, help="HOST:PORT of the frame master")
    parser.add_argument("--node", required=True)
    parser.add_argument("--generation", type=int, required=True)
    args = parser.parse_args(argv)
    token = os.environ.pop(TOKEN_ENV, "")
    if not token:
        print(f"{TOKEN_ENV} is not set", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format=f"node {args.node}: %(levelname)s %(name)s: %(message)s")
    tune_timing()
    from render.node.client import serve_node

    return serve_node(args.master, args.node, args.generation, token)


if __name__ == "__main__":
    sys.exit(main())

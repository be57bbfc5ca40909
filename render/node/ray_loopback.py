"""``python -m render.node.ray_loopback start ...``: Ray's command line, keeping 127.0.0.1.

Several Ray nodes on one host, all on loopback (a rehearsal of a multi-host stage, and the tests):
``ray start --node-ip-address 127.0.0.1`` alone would put the host's network address in their
place (see ``render.node.ray_launcher.keep_loopback``). Same arguments as ``ray``.
"""

from __future__ import annotations

import sys

from render.node.ray_launcher import keep_loopback


def main() -> int:
    keep_loopback()
    from ray.scripts.scripts import main as ray_main

    sys.argv[0] = "ray"
    result = ray_main()
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())

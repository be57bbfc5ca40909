#!/usr/bin/env python3
"""vpstage entry point.

``python main.py`` opens the console in rehearsal mode (demo stage, procedural scene, simulated
tracker). ``python main.py --project FILE`` opens a project. Subcommands run headless tasks;
``python main.py --help`` lists them.
"""

import sys

from cli import main

if __name__ == "__main__":
    sys.exit(main())

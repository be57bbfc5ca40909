"""``token``: access tokens for the web viewer and the remote control API.

    python main.py token create --role viewer|operator --project FILE [--label TEXT]
    python main.py token list --project FILE

The token is printed once; the project folder keeps only its salted hash
(``remote_tokens.json``, saved atomically).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cli import EXIT_INVALID, EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("token", help="create and list access tokens for the web viewer and control API")
    actions = p.add_subparsers(dest="token_command", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a token (printed once; stored hashed in the project folder)")
    create.add_argument("--role", required=True, choices=["viewer", "operator"],
                        help="viewer: watch and read status; operator: also control the engine")
    create.add_argument("--project", required=True, metavar="FILE", help="the project (stage) file")
    create.add_argument("--label", default="", help="who the token is for (e.g. 'DP tablet')")
    create.set_defaults(handler=cmd_token_create)
    listing = actions.add_parser("list", help="list the project's tokens (roles and labels, never the tokens)")
    listing.add_argument("--project", required=True, metavar="FILE")
    listing.set_defaults(handler=cmd_token_list)


def cmd_token_create(args: argparse.Namespace) -> int:
    from remote.tokens import TokenStore

    if not Path(args.project).is_file():
        print(f"{args.project}: no such project file", file=sys.stderr)
        return EXIT_INVALID
    store = TokenStore.for_project(args.project)
    token = store.create(args.role, label=args.label)
    print(token)
    print(f"{args.role} token created (stored hashed in {store.path}); it is shown only now", file=sys.stderr)
    return EXIT_OK


def cmd_token_list(args: argparse.Namespace) -> int:
    import time

    from remote.tokens import TokenStore

    for entry in TokenStore.for_project(args.project).entries():
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
        print(f"{entry.id}  {entry.role:8}  {created}  {entry.label}")
    return EXIT_OK

"""What the control API acts on: a ``Controls`` (any thread; may block until the action is done).

``perform`` raises ``remote.requests.ApiError`` for an action it refuses (an unknown camera, no
takes database, a take already recording): the API answers 4xx and nothing changed.
"""

from __future__ import annotations

from typing import Any, Protocol

from remote.actions import Action


class Controls(Protocol):
    def perform(self, action: Action) -> dict[str, Any]:
        """Do ``action``; a JSON-able result."""
        ...

    def status(self) -> dict[str, Any]: ...

    def health(self) -> dict[str, Any]: ...

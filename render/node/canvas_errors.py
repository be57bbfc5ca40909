"""Why a canvas cannot be rendered: the message the node's error card shows."""


class CanvasError(Exception):
    """This canvas cannot be rendered; the message is shown on the error card and reported."""

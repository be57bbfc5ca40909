"""The Colour dock: each canvas's output and the operator's colour regions."""

"""Errors the CLI turns into one actionable line and a non-zero exit, never a traceback."""


class WildrydesError(Exception):
    """A failure the user can act on; the message says what to do."""


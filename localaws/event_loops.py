"""The event loop of the local runtime's asyncio servers (the gateway, the Athena engine's HTTP front): uvloop's,
libuv driven from C, unless ``WILDRYDES_UVLOOP=0`` (asyncio's own loop, for side-by-side runs). Where uvloop is not
installed (it has no Windows build) asyncio's loop serves."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from localaws.errors import LocalError

SWITCH = "WILDRYDES_UVLOOP"
T = TypeVar("T")


def enabled() -> bool:
    text = os.environ.get(SWITCH, "1")
    if text not in ("0", "1"):
        raise LocalError(f"{SWITCH}={text!r}: expected 1 (uvloop's event loop) or 0 (asyncio's)")
    return text == "1"


def new_event_loop() -> asyncio.AbstractEventLoop:
    if enabled():
        try:
            import uvloop
        except ImportError:
            return asyncio.new_event_loop()
        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on the loop ``new_event_loop`` makes."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)

"""What `wildrydes local up` shows in its terminal. Every line of every component goes to its log file
(``logs.py``); the terminal gets the banner and then, depending on where it goes:

- a terminal: one status panel, redrawn in place (rich): each component's state, pid and restarts, the
  producer's rate, each event source mapping's and delivery stream's lag and throughput, the records set
  aside, the latest Dagster runs, and the last warning or error of each component;
- anything else (CI, a file): the supervisor's own messages, each WARNING or ERROR as it happens (a line
  repeated within ``REPEAT_WINDOW_S`` is counted, not printed again), and one status line every
  ``STATUS_EVERY_S`` seconds. Never DEBUG;
- ``--verbose``: every line of every component, prefixed with its name (as a developer may want).
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from localaws.supervisor.logs import LEVELS, Entry

STATUS_EVERY_S = 10.0
REPEAT_WINDOW_S = 300.0
_PRODUCER_RATE = re.compile(r"([\d,]+) acked \| ([\d,]+) rec/s now")


@dataclass
class ProcessView:
    name: str
    pid: int | None
    state: str  # running, restarting, finished, failed (exit N)
    restarts: int


@dataclass
class Snapshot:
    """What the status shows, gathered once per refresh."""

    processes: list[ProcessView] = field(default_factory=list)
    producer: str | None = None
    mappings: list[str] = field(default_factory=list)
    deliveries: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)
    dagster: list[str] = field(default_factory=list)
    problems: dict[str, str] = field(default_factory=dict)  # component -> its last warning or error

    def summary(self) -> str:
        """The status on one line."""
        running = sum(p.state in ("running", "finished") for p in self.processes)
        parts = [f"{running}/{len(self.processes)} processes up"]
        down = [p.name for p in self.processes if p.state not in ("running", "finished")]
        if down:
            parts.append("down: " + ", ".join(down))
        if self.producer:
            parts.append(f"producer {self.producer}")
        parts += self.mappings + self.deliveries
        if self.set_aside:
            parts.append("set aside: " + ", ".join(self.set_aside))
        if self.dagster:
            parts.append("dagster: " + self.dagster[0])
        return " | ".join(parts)


class Console:
    """The base: keeps what the status needs from the lines the components write."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.problems: dict[str, str] = {}
        self.producer_rate: str | None = None

    def line(self, entry: Entry) -> None:
        if entry.component == "producer":
            match = _PRODUCER_RATE.search(entry.text)
            if match:
                self.producer_rate = f"{match.group(2)} rec/s ({match.group(1)} acked)"
        if LEVELS[entry.level] >= LEVELS["WARNING"] and entry.component != "supervisor" and not entry.continued:
            self.problems[entry.component] = f"{entry.level.lower()}: {entry.text.strip()[:160]}"
        self.show(entry)

    def show(self, entry: Entry) -> None:
        raise NotImplementedError

    def print(self, text: str) -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def banner(self, lines: list[str]) -> None:
        self.print("\n".join(lines))

    def run(self, snapshot: Callable[[], Snapshot], stop: threading.Event) -> None:
        """Shows the status until ``stop`` is set (in a thread of the supervisor)."""
        # On a fixed cadence: a slow snapshot (a status endpoint near its timeout) must not stretch the period.
        due = time.monotonic() + STATUS_EVERY_S
        while not stop.wait(max(0.0, due - time.monotonic())):
            self.print(f"status | {self._snapshot(snapshot).summary()}")
            due += STATUS_EVERY_S
            if due < time.monotonic():
                due = time.monotonic() + STATUS_EVERY_S  # a snapshot longer than a period: no burst to catch up

    def _snapshot(self, snapshot: Callable[[], Snapshot]) -> Snapshot:
        try:
            current = snapshot()
        except Exception as error:  # noqa: BLE001 - the status must never stop the platform
            current = Snapshot(problems={"status": f"error: cannot gather the status: {error}"})
        current.problems = {**self.problems, **current.problems}
        current.producer = current.producer or self.producer_rate
        return current

    def close(self) -> None:
        pass


class PlainConsole(Console):
    """For CI and files: the supervisor's messages, warnings and errors as they happen, a status line now and
    then."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.seen: dict[tuple[str, str], tuple[float, int]] = {}  # (component, text) -> (first shown, repeats)

    def show(self, entry: Entry) -> None:
        if entry.continued or (entry.component != "supervisor" and LEVELS[entry.level] < LEVELS["WARNING"]):
            return  # a traceback stays in the component's log; its first line says where
        key = (entry.component, entry.text)
        first, repeats = self.seen.get(key, (0.0, 0))
        if entry.time - first < REPEAT_WINDOW_S:
            self.seen[key] = (first, repeats + 1)
            return
        if repeats:
            self.print(f"{entry.component:>10} | (the line below was repeated {repeats} more times)")
        self.seen[key] = (entry.time, 0)
        level = "" if entry.level == "INFO" else f"{entry.level} "
        self.print(f"{entry.component:>10} | {level}{entry.text}")


class VerboseConsole(PlainConsole):
    """Every line of every component, prefixed with its name."""

    def show(self, entry: Entry) -> None:
        self.print(f"{entry.component:>10} | {entry.text}")


class LiveConsole(Console):
    """For a terminal: one panel, redrawn in place."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        from rich.console import Console as RichConsole

        self.rich = RichConsole(file=out, force_terminal=True)
        self.live: Any = None
        self.messages: list[str] = []  # the supervisor's latest messages

    def show(self, entry: Entry) -> None:
        if entry.component == "supervisor":
            self.messages = [*self.messages[-3:], f"{time.strftime('%H:%M:%S')} {entry.text}"]
            if self.live is None:
                self.print(f"supervisor | {entry.text}")

    def banner(self, lines: list[str]) -> None:
        self.rich.print("\n".join(lines), highlight=False, markup=False)

    def run(self, snapshot: Callable[[], Snapshot], stop: threading.Event) -> None:
        from rich.live import Live

        with Live(self.render(self._snapshot(snapshot)), console=self.rich, refresh_per_second=4,
                  transient=False) as live:
            self.live = live
            while not stop.wait(1.0):
                live.update(self.render(self._snapshot(snapshot)))
            live.update(self.render(self._snapshot(snapshot)))
        self.live = None

    def render(self, status: Snapshot) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        processes = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
        for column in ("process", "state", "pid", "restarts", "last warning or error"):
            processes.add_column(column, overflow="ellipsis", no_wrap=True)
        for view in status.processes:
            style = {"running": "green", "finished": "cyan"}.get(view.state, "red")
            problem = status.problems.get(view.name, "")
            processes.add_row(view.name, f"[{style}]{view.state}[/]", str(view.pid or "-"), str(view.restarts),
                              problem)
        flows = [*(["producer      " + status.producer] if status.producer else []),
                 *status.mappings, *status.deliveries,
                 "set aside     " + (", ".join(status.set_aside) or "nothing")]
        parts: list[Any] = [processes, "", *(Text(flow, no_wrap=True, overflow="ellipsis") for flow in flows)]
        if status.dagster:
            parts += ["", Text("Dagster", style="bold"),
                      *(Text(run, no_wrap=True, overflow="ellipsis") for run in status.dagster)]
        if self.messages:
            parts += ["", *(Text(message, no_wrap=True, overflow="ellipsis") for message in self.messages)]
        return Panel(Group(*parts), title="Wild Rydes local platform", subtitle="Ctrl-C stops it",
                     border_style="blue")

    def close(self) -> None:
        self.live = None


def for_terminal(out: TextIO = sys.stdout, verbose: bool = False) -> Console:
    if verbose:
        return VerboseConsole(out)
    return LiveConsole(out) if out.isatty() else PlainConsole(out)

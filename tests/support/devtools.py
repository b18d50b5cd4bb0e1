"""A small Chrome DevTools Protocol client (aiohttp websockets, driven synchronously) for the map's
browser tests and its benchmark: headless Debian Chromium, a fresh profile, one page.

Only what those need: navigate, evaluate JavaScript, click, screenshot, metrics, and the page's
console errors, exceptions and network requests (to prove the page fetches nothing from the network).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = os.environ.get("WILDRYDES_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars"]
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class DevToolsError(RuntimeError):
    pass


@dataclass
class PageLog:
    console: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def errors(self) -> list[str]:
        return self.exceptions + [m["text"] for m in self.console if m["type"] in ("error", "assert")]


class Browser:
    """Headless Chromium with a fresh --user-data-dir, stopped (and its profile removed) by close()."""

    def __init__(self, width: int = 1400, height: int = 900, executable: str = CHROMIUM) -> None:
        if not Path(executable).exists():
            raise DevToolsError(f"{executable} not found: install Debian's chromium (apt-get install -y chromium)")
        self.profile = tempfile.mkdtemp(prefix="wildrydes-chromium-")
        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        self.url = self._wait_for_url()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ids = itertools.count(1)
        self.pending: dict[int, asyncio.Future[Any]] = {}
        self.logs: dict[str, PageLog] = {}
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._run(self._connect())

    def _wait_for_url(self, timeout: float = 30.0) -> str:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        lines = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline().decode(errors="replace")
            if not line and self.process.poll() is not None:
                break
            lines.append(line)
            match = _LISTENING.search(line)
            if match:
                threading.Thread(target=self._drain, daemon=True).start()
                return match.group(1)
        self.close()
        raise DevToolsError("chromium did not start:\n" + "".join(lines[-20:]))

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def _run(self, coroutine: Any, timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _connect(self) -> None:
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.url, max_msg_size=256 * 1024 * 1024)
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self.pending.pop(data["id"], None)
                if future and not future.done():
                    if "error" in data:
                        future.set_exception(DevToolsError(f"{data['error'].get('message')}: {data['error']}"))
                    else:
                        future.set_result(data.get("result", {}))
            else:
                self._event(data)
        for future in self.pending.values():
            if not future.done():
                future.set_exception(DevToolsError("browser connection closed"))

    def _event(self, data: dict[str, Any]) -> None:
        log = self.logs.get(data.get("sessionId", ""))
        if log is None:
            return
        method, params = data["method"], data.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            log.console.append({"type": params.get("type"), "text": text})
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            log.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Network.requestWillBeSent":
            log.requests.append(params["request"]["url"])

    async def _send(self, method: str, params: dict[str, Any], session: str | None) -> Any:
        assert self.ws is not None
        message: dict[str, Any] = {"id": next(self.ids), "method": method, "params": params}
        if session:
            message["sessionId"] = session
        future = self.loop.create_future()
        self.pending[message["id"]] = future
        await self.ws.send_str(json.dumps(message))
        return await future

    def send(self, method: str, session: str | None = None, timeout: float = 60.0, **params: Any) -> Any:
        return self._run(self._send(method, params, session), timeout)

    def new_page(self, width: int = 1400, height: int = 900, network: bool = True) -> Page:
        """A new tab. ``network`` records its requests (DevTools then also buffers responses: leave it
        off when measuring memory)."""
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.logs[session] = PageLog()
        page = Page(self, session, self.logs[session])
        for domain in ("Page", "Runtime", "Performance", *(["Network"] if network else [])):
            page.send(f"{domain}.enable")
        page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        return page

    def pids(self) -> list[int]:
        """The browser process and all its children (renderers, GPU/utility processes)."""
        import psutil

        try:
            root = psutil.Process(self.process.pid)
            return [root.pid, *(child.pid for child in root.children(recursive=True))]
        except psutil.NoSuchProcess:
            return []

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            with contextlib.suppress(Exception):
                self._run(self._close(), timeout=10)
        if getattr(self, "loop", None) is not None:
            self.loop.call_soon_threadsafe(self.loop.stop)
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def _close(self) -> None:
        with contextlib.suppress(Exception):
            await self._send("Browser.close", {}, None)
        assert self.ws is not None
        await self.ws.close()
        await self.session.close()


class Page:
    def __init__(self, browser: Browser, session: str, log: PageLog) -> None:
        self.browser = browser
        self.session = session
        self.log = log

    def send(self, method: str, timeout: float = 60.0, **params: Any) -> Any:
        return self.browser.send(method, self.session, timeout, **params)

    def navigate(self, url: str) -> None:
        result = self.send("Page.navigate", url=url)
        if result.get("errorText"):
            raise DevToolsError(f"navigation to {url} failed: {result['errorText']}")

    def evaluate(self, expression: str, timeout: float = 60.0) -> Any:
        result = self.send("Runtime.evaluate", timeout=timeout, expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise DevToolsError(details.get("exception", {}).get("description") or details.get("text"))
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float = 30.0, interval: float = 0.2, what: str = "") -> Any:
        """Polls a JavaScript expression until it is truthy; returns its value."""
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            with contextlib.suppress(DevToolsError):
                value = self.evaluate(expression)
                if value:
                    return value
            time.sleep(interval)
        errors = "; ".join(self.log.errors()[-5:])
        raise DevToolsError(f"timed out after {timeout:.0f}s waiting for {what or expression} (last value "
                            f"{value!r}; page errors: {errors or 'none'})")

    def click(self, x: float, y: float) -> None:
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)

    def screenshot(self, path: Path) -> bytes:
        data = base64.b64decode(self.send("Page.captureScreenshot", format="png")["data"])
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return data

    def metrics(self) -> dict[str, float]:
        return {m["name"]: m["value"] for m in self.send("Performance.getMetrics")["metrics"]}

    def heap(self) -> dict[str, float]:
        return self.send("Runtime.getHeapUsage")


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 900) -> Iterator[tuple[Browser, Page]]:
    browser = Browser(width, height)
    try:
        yield browser, browser.new_page(width, height)
    finally:
        browser.close()

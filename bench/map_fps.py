"""The live map with 1,000 unicorns updating every second, in headless Chromium, for a long time.

A real local stack produces the fleet (``wildrydes local up --unicorns N``), ``wildrydes map`` serves
the page, and Debian's Chromium shows the whole city (every unicorn in view). Every sample period it
records the frames per second the page achieves (requestAnimationFrame), the time of one full redraw
of the fleet canvas, the JS heap, the DOM size and the RSS of all Chromium processes; at the start and
the end it also drags the map with the mouse for 10 s (real input events) and measures the FPS.
``python -m bench.map_fps [--minutes 30] [--unicorns 1000] [--quick]``; results in
``bench/results/map.json`` and ``map.md`` (``map-quick.*`` with --quick).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import RESULTS_DIR, add_result_options, commit_of, host, result_stem
from localaws.settings import REPO_ROOT
from localaws.supervisor.preflight import free_port
from tests.support.devtools import Browser, Page
from tests.support.stack import LocalStack, started_stack

NAME = "map"
DESCRIPTION = "live map in headless Chromium: FPS, redraw time, JS heap and RSS with 1,000 unicorns"

FPS_PROBE = """(() => {
  if (window.__fps) return true;
  const fps = window.__fps = {frames: 0, since: performance.now(), longTasks: 0, longTaskMs: 0};
  const loop = () => { fps.frames += 1; requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) { fps.longTasks += 1;
      fps.longTaskMs += e.duration; } }).observe({type: 'longtask', buffered: false});
  } catch (e) { /* not supported */ }
  return true;
})()"""

READ_WINDOW = """(() => {
  const f = window.__fps, now = performance.now();
  const out = {fps: f.frames * 1000 / (now - f.since), longTasks: f.longTasks, longTaskMs: f.longTaskMs};
  f.frames = 0; f.since = now; f.longTasks = 0; f.longTaskMs = 0;
  const s = wildrydesMap.layer.stats;
  out.draws = s.draws; out.drawMsTotal = s.totalDrawMs; out.maxDrawMs = s.maxDrawMs; out.drawn = s.drawn;
  s.maxDrawMs = 0;
  out.unicorns = wildrydesMap.fleet.unicorns.size;
  out.applied = wildrydesMap.fleet.applied;
  out.bad = wildrydesMap.status.bad.count;
  out.banner = !document.getElementById('banner').hidden;
  out.skippedToLatest = wildrydesMap.readers.source.stats.skippedToLatest;
  out.readErrors = wildrydesMap.readers.source.stats.errors + wildrydesMap.readers.summaries.stats.errors;
  return out;
})()"""

def drag_fps(page: Page, seconds: float = 10.0) -> float:
    """Drags the map with the mouse (real input events) back and forth for `seconds`; the page's FPS."""
    box = page.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect();"
                        " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    x, y = box
    page.evaluate(READ_WINDOW)
    page.send("Input.dispatchMouseEvent", type="mousePressed", x=x, y=y, button="left", clickCount=1)
    started = time.monotonic()
    step = 0
    while time.monotonic() - started < seconds:
        step += 1
        phase = (step // 60) % 2  # 60 steps one way, 60 back
        x += 4 if phase == 0 else -4
        y += 2 if phase == 0 else -2
        page.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left")
        time.sleep(0.016)
    page.send("Input.dispatchMouseEvent", type="mouseReleased", x=x, y=y, button="left", clickCount=1)
    return round(page.evaluate(READ_WINDOW)["fps"], 1)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench map", description=DESCRIPTION)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the page runs (default 30)")
    parser.add_argument("--unicorns", type=int, default=1000, help="fleet size (default 1000)")
    parser.add_argument("--sample-seconds", type=float, default=30.0, help="sample period (default 30)")
    parser.add_argument("--quick", action="store_true", help="2 minutes, samples every 10 s")
    add_result_options(parser)
    args = parser.parse_args(argv)
    args.stem = result_stem("map-quick" if args.quick else "map", args)
    if args.quick:
        args.minutes, args.sample_seconds = 2.0, 10.0
    return args


@contextmanager
def map_server(stack: LocalStack, log: Path) -> Iterator[str]:
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "map", "--port", str(port), "--data-dir", str(stack.data_dir),
             "--endpoint", stack.endpoint_url],
            stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/"
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "healthz", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        try:
            yield url
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(10)


def browser_rss_mb(browser: Browser) -> dict[str, float]:
    total, renderer = 0.0, 0.0
    for pid in browser.pids():
        try:
            process = psutil.Process(pid)
            rss = process.memory_info().rss / 2**20
            total += rss
            if "--type=renderer" in " ".join(process.cmdline()):
                renderer = max(renderer, rss)
        except psutil.NoSuchProcess:
            continue
    return {"browser_rss_mb": round(total, 1), "renderer_rss_mb": round(renderer, 1)}


def browser_cpu_seconds(browser: Browser) -> float:
    seconds = 0.0
    for pid in browser.pids():
        try:
            times = psutil.Process(pid).cpu_times()
            seconds += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return seconds


def sample(page: Page, browser: Browser, started: float, previous: dict[str, Any]) -> dict[str, Any]:
    window = page.evaluate(READ_WINDOW)
    heap = page.heap()
    metrics = page.metrics()
    now = time.monotonic()
    cpu = browser_cpu_seconds(browser)
    draws = window["draws"] - previous.get("draws", 0)
    elapsed = now - previous.get("at", started)
    row = {
        "minute": round((now - started) / 60, 2),
        "fps": round(window["fps"], 1),
        "unicorns": window["unicorns"],
        "drawn": window["drawn"],
        "records_per_s": round((window["applied"] - previous.get("applied", 0)) / elapsed, 1),
        "redraws_per_s": round(draws / elapsed, 2),
        "redraw_ms_mean": round((window["drawMsTotal"] - previous.get("drawMsTotal", 0)) / max(1, draws), 2),
        "redraw_ms_max": round(window["maxDrawMs"], 1),
        "long_tasks": window["longTasks"],
        "js_heap_used_mb": round(heap["usedSize"] / 2**20, 1),
        "js_heap_total_mb": round(heap["totalSize"] / 2**20, 1),
        "dom_nodes": int(metrics.get("Nodes", 0)),
        "browser_cpu_pct": round(100 * (cpu - previous.get("cpu", cpu)) / elapsed, 1) if previous else None,
        "bad_records": window["bad"],
        "banner": window["banner"],
        "read_errors": window["readErrors"],
        "skipped_to_latest": window["skippedToLatest"],
        **browser_rss_mb(browser),
    }
    previous.update(at=now, draws=window["draws"], drawMsTotal=window["drawMsTotal"], applied=window["applied"],
                    cpu=cpu)
    return row


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="wildrydes-bench-map-") as tmp:
        stacks = started_stack(Path(tmp), ["--unicorns", str(args.unicorns)])
        stack = next(stacks)
        try:
            with map_server(stack, Path(tmp) / "map.log") as url:
                browser = Browser(1400, 900)
                try:
                    return measure(args, browser, url)
                finally:
                    browser.close()
        finally:
            stacks.close()


def measure(args: argparse.Namespace, browser: Browser, url: str) -> dict[str, Any]:
    page = browser.new_page(1400, 900, network=False)
    page.navigate(url)
    page.wait_for("document.body.dataset.ready === 'true'", 60, what="the page")
    # The whole city in view: every unicorn is drawn on every redraw.
    page.evaluate("wildrydesMap.map.setView([40.6975, -73.98], 11, {animate: false}); true")
    page.wait_for(f"wildrydesMap.fleet.unicorns.size >= {args.unicorns}", 120, what=f"{args.unicorns} unicorns")
    page.evaluate(FPS_PROBE)
    started = time.monotonic()
    previous: dict[str, Any] = {}
    samples: list[dict[str, Any]] = []
    page.evaluate(READ_WINDOW)
    sample(page, browser, started, previous)
    pan_start = drag_fps(page)
    page.evaluate("wildrydesMap.map.setView([40.6975, -73.98], 11, {animate: false}); true")
    page.evaluate(READ_WINDOW)
    deadline = started + args.minutes * 60
    while time.monotonic() < deadline:
        time.sleep(max(0.0, min(args.sample_seconds, deadline - time.monotonic())))
        row = sample(page, browser, started, previous)
        samples.append(row)
        print(f"  {row['minute']:6.2f} min  {row['fps']:5.1f} fps  redraw {row['redraw_ms_mean']:5.1f} ms "
              f"(max {row['redraw_ms_max']:5.1f})  {row['unicorns']} unicorns  {row['records_per_s']:7.1f} rec/s  "
              f"heap {row['js_heap_used_mb']:6.1f} MB  browser RSS {row['browser_rss_mb']:7.1f} MB  "
              f"read errors {row['read_errors']}{'  BANNER' if row['banner'] else ''}", flush=True)
    pan_end = drag_fps(page)
    isolated = page.evaluate("""(() => { const l = wildrydesMap.layer; const t0 = performance.now();
        for (let i = 0; i < 20; i++) l.draw(); return (performance.now() - t0) / 20; })()""")
    errors = page.log.errors()
    steady = samples[1:] or samples
    return {
        "benchmark": NAME,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "chromium": subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.strip(),
        "minutes": args.minutes,
        "unicorns": args.unicorns,
        "viewport": "1400x900, zoom 11 (the whole city in view)",
        "fps_mean": round(statistics.fmean(s["fps"] for s in steady), 1),
        "fps_min": min(s["fps"] for s in steady),
        "pan_fps_start": pan_start,
        "pan_fps_end": pan_end,
        "redraw_ms_back_to_back": round(isolated, 2),
        "redraw_ms_mean": round(statistics.fmean(s["redraw_ms_mean"] for s in steady), 2),
        "redraw_ms_max": max(s["redraw_ms_max"] for s in steady),
        "js_heap_used_mb_first": samples[0]["js_heap_used_mb"] if samples else None,
        "js_heap_used_mb_last": samples[-1]["js_heap_used_mb"] if samples else None,
        "js_heap_used_mb_max": max(s["js_heap_used_mb"] for s in samples) if samples else None,
        "browser_rss_mb_first": samples[0]["browser_rss_mb"] if samples else None,
        "browser_rss_mb_last": samples[-1]["browser_rss_mb"] if samples else None,
        "browser_rss_mb_max": max(s["browser_rss_mb"] for s in samples) if samples else None,
        "load_average": [round(v, 2) for v in os.getloadavg()],
        "records_per_s_mean": round(statistics.fmean(s["records_per_s"] for s in steady), 1),
        "read_errors": samples[-1]["read_errors"] if samples else None,
        "samples_with_banner": sum(1 for s in samples if s["banner"]),
        "page_errors": errors[:10],
        "samples": samples,
    }


def write(result: dict[str, Any], stem: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    r = result
    lines = [
        f"# Live map benchmark ({r['started_at']}, {r['cores']} cores, {r['chromium']})",
        "",
        f"`{r['command']}`, commit {commit_of(r['machine'])}.",
        "",
        f"- {r['unicorns']:,} unicorns, one record each per second, for {r['minutes']:g} minutes; viewport "
        f"{r['viewport']}; headless Chromium with --disable-gpu (software rendering); the local stack "
        "(producer, Kinesis, aggregator) runs on the same 2 cores; load average at the end "
        f"{r['load_average']} (other work on the machine included)",
        f"- frames per second (requestAnimationFrame): mean {r['fps_mean']}, lowest sample {r['fps_min']}",
        f"- dragging the map with the mouse for 10 s: {r['pan_fps_start']} fps at the start, "
        f"{r['pan_fps_end']} fps at the end",
        f"- one full redraw of the fleet canvas (1,000 icons and trails): mean {r['redraw_ms_mean']} ms, max "
        f"{r['redraw_ms_max']} ms during the run; {r['redraw_ms_back_to_back']} ms each for 20 back-to-back at the end",
        f"- JS heap used: {r['js_heap_used_mb_first']} MB at the first sample, {r['js_heap_used_mb_last']} MB at "
        f"the last (max {r['js_heap_used_mb_max']} MB)",
        f"- RSS of all Chromium processes: {r['browser_rss_mb_first']} MB first, {r['browser_rss_mb_last']} MB "
        f"last (max {r['browser_rss_mb_max']} MB)",
        f"- records applied by the page: {r['records_per_s_mean']}/s on average; page errors: "
        f"{len(r['page_errors'])}; read errors (timeouts of the loaded local endpoint) {r['read_errors']}, "
        f"outage banner up in {r['samples_with_banner']} of {len(r['samples'])} samples",
        "",
        "| minute | fps | redraw ms (mean / max) | unicorns | records/s | JS heap MB | DOM nodes | browser RSS MB "
        "| renderer RSS MB | browser CPU % |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in r["samples"]:
        lines.append(f"| {s['minute']} | {s['fps']} | {s['redraw_ms_mean']} / {s['redraw_ms_max']} | {s['unicorns']} "
                     f"| {s['records_per_s']} | {s['js_heap_used_mb']} | {s['dom_nodes']} | {s['browser_rss_mb']} "
                     f"| {s['renderer_rss_mb']} | {s['browser_cpu_pct']} |")
    path = RESULTS_DIR / f"{stem}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # so that the browser, the map server and the stack are stopped


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"map: {args.unicorns} unicorns for {args.minutes:g} min", flush=True)
    machine = host()
    result = {"command": shlex.join(["python", "-m", "bench", "map", *argv]), "machine": machine, **run(args)}
    path = write(result, args.stem)
    print(path.read_text(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The live map in a real browser (Debian's headless Chromium) against a real local stack.

One stack (deploy + the 20-unicorn producer), one `wildrydes map` server and one page for the module:
markers appear and move, a popup shows the values of a unicorn whose records the test wrote itself,
the panel lists the fleet and highlights low vitals, bad records are skipped and counted, the page
fetches nothing beyond loopback, a screenshot shows the basemap, and an outage of the whole stack
shows the banner, which clears when the stack is back, without a reload.
"""

from __future__ import annotations

import json
import signal
import struct
import subprocess
import sys
import time
import urllib.request
import uuid
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from localaws.settings import REPO_ROOT
from localaws.supervisor.preflight import free_port
from tests.support.devtools import Browser, DevToolsError, Page
from tests.support.stack import LocalStack, started_stack

ARTIFACTS = REPO_ROOT / "test-artifacts"
WATER = (0xA9, 0xD3, 0xE6)  # streaming/map/src/basemap.js COLORS.water
PARK = (0xBF, 0xE3, 0xA8)  # COLORS.park
BOROUGH = (0xF8, 0xF6, 0xF1)  # COLORS.borough

@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    yield from started_stack(tmp_path_factory.mktemp("map-stack"))


@pytest.fixture(scope="module")
def map_url(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("map-server") / "map.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.cli", "map", "--port", str(port), "--data-dir", str(stack.data_dir),
         "--endpoint", stack.endpoint_url],
        stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=1):
                break
        except OSError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


@pytest.fixture(scope="module")
def page(map_url: str) -> Iterator[Page]:
    browser = Browser(1400, 900)
    try:
        page = browser.new_page(1400, 900)
        page.navigate(map_url)
        page.wait_for("document.body.dataset.ready === 'true'", 30, what="the page to start")
        yield page
    finally:
        browser.close()


def _status_time(offset_s: float = 0.0) -> str:
    now = datetime.fromtimestamp(time.time() + offset_s, UTC)
    return now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond // 1000:03d}"


def _put(stack: LocalStack, stream: str, records: list[bytes], key: str) -> None:
    client = stack.client("kinesis")
    response = client.put_records(StreamName=stream, Records=[{"Data": r, "PartitionKey": key} for r in records])
    assert response["FailedRecordCount"] == 0


def set_view(page: Page, lat: float, lon: float, zoom: int) -> None:
    """Moves the map without animation, then waits until it is there and the fleet layer has drawn after the move
    (the basemap's canvas renderer redraws on the same moveend, in an earlier animation frame callback)."""
    draws = page.evaluate(f"""(() => {{ const draws = wildrydesMap.layer.stats.draws;
        wildrydesMap.map.setView([{lat}, {lon}], {zoom}, {{animate: false}}); return draws; }})()""")
    page.wait_for(f"""(() => {{ const m = wildrydesMap.map;
        const p = m.latLngToContainerPoint([{lat}, {lon}]), c = m.getSize().divideBy(2);
        return m.getZoom() === {zoom} && Math.abs(p.x - c.x) < 2 && Math.abs(p.y - c.y) < 2
            && wildrydesMap.layer.stats.draws > {draws}; }})()""", 10,
                  what=f"the map at {lat}, {lon} zoom {zoom}, redrawn")


def positions(page: Page) -> dict[str, dict]:
    return page.evaluate("Object.fromEntries(wildrydesMap.names().map(n => [n, wildrydesMap.unicorn(n)]))")


def test_markers_appear_for_the_produced_unicorns_and_move(page: Page) -> None:
    page.wait_for("wildrydesMap.names().length >= 20", 30, what="20 produced unicorns")
    before = positions(page)
    deadline = time.monotonic() + 15
    while True:
        after = positions(page)
        moved = [n for n in before if n in after and (before[n]["lat"], before[n]["lon"]) != (
            after[n]["lat"], after[n]["lon"])]
        if len(moved) >= 18 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert len(moved) >= 18, f"only {len(moved)} of {len(before)} unicorns moved in 15 s"
    assert all(after[n]["trail"] >= 2 for n in moved)
    # A marker is really drawn: the fleet canvas has opaque pixels where a unicorn in view is.
    set_view(page, 40.749167, -73.985184, 12)
    drawn = page.evaluate("""(() => {
        const {layer, fleet} = wildrydesMap; const c = layer.canvas; const g = c.getContext('2d');
        const size = wildrydesMap.map.getSize(); let hits = 0, inView = 0;
        for (const u of fleet.unicorns.values()) {
            const v = layer.containerPoint(u), p = layer.canvasPoint(u);
            if (v.x < 5 || v.y < 5 || v.x > size.x - 5 || v.y > size.y - 5) continue;
            inView += 1;
            const ratio = c.width / parseFloat(c.style.width);
            if (g.getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data[3] > 200) hits += 1;
        }
        return {hits, inView};
    })()""")
    assert drawn["inView"] > 0 and drawn["hits"] == drawn["inView"], drawn


def test_popup_shows_the_values_of_records_the_test_wrote(stack: LocalStack, page: Page) -> None:
    name = f"Testicorn-{uuid.uuid4().hex[:6]}"
    lat, lon = 40.7580, -73.9855  # Times Square
    records = [json.dumps({"Name": name, "StatusTime": _status_time(i - 2), "Latitude": lat + i * 0.0002,
                           "Longitude": lon, "Distance": 12.5, "HealthPoints": 95 - i, "MagicPoints": 140}).encode()
               for i in range(3)]
    # The page reads from LATEST: only records written after it has started reading reach it.
    page.wait_for("wildrydesMap.fleet.applied > 0", 30, what="the page to read the stream")
    _put(stack, "wildrydes", records, name)
    # The map shows a unicorn's latest minute; the aggregator soon writes one for the records above, so the planted
    # summary is for a later minute than any the pipeline can make during the test.
    minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
    summary = {"Name": name, "StatusTime": f"{minute:%Y-%m-%d %H:%M:%S}.000", "Distance": 750.25,
               "MinMagicPoints": 138, "MaxMagicPoints": 141, "MinHealthPoints": 93, "MaxHealthPoints": 97,
               "RecordCount": 60, "WindowEnd": f"{minute + timedelta(minutes=1):%Y-%m-%d %H:%M:%S}.000"}
    _put(stack, "wildrydes-summary", [json.dumps(summary).encode()], name)
    try:
        page.wait_for(f"wildrydesMap.unicorn({json.dumps(name)})?.health === 93", 40, what=f"{name} on the map")
    except DevToolsError as error:
        state = page.evaluate(f"JSON.stringify([wildrydesMap.unicorn({json.dumps(name)}), wildrydesMap.fleet.stale, "
                              "wildrydesMap.readers.source.stats, document.getElementById('banner').textContent])")
        raise AssertionError(f"{error}; page state: {state}") from None
    page.wait_for(f"wildrydesMap.unicorn({json.dumps(name)})?.summary", 40, what=f"the summary of {name}")
    set_view(page, lat + 0.0004, lon, 15)
    point = page.evaluate(f"wildrydesMap.unicorn({json.dumps(name)})")
    box = page.evaluate("(() => { const r = document.getElementById('map').getBoundingClientRect();"
                        " return {left: r.left, top: r.top}; })()")
    page.click(box["left"] + point["x"], box["top"] + point["y"])
    popup = page.wait_for(f"""(() => {{
        const body = document.querySelector('.leaflet-popup .popup-body');
        if (!body || body.dataset.name !== {json.dumps(name)}) return null;
        const text = (s) => body.querySelector(s)?.textContent;
        return {{speed: text('.popup-speed'), health: text('.popup-health'), magic: text('.popup-magic'),
                 healthLow: body.querySelector('.popup-health').classList.contains('low'),
                 summary: text('.popup-summary'), title: text('.popup-name')}};
    }})()""", 10, what="the popup of the clicked unicorn")
    assert popup["title"] == name
    assert popup["speed"] == "45.0 km/h · 28.0 mph"  # 12.5 m/s
    assert (popup["health"], popup["magic"], popup["healthLow"]) == ("93", "140", True)
    assert popup["summary"] == "0.75 km, health 93–97, magic 138–141"
    # The panel's details show the selected unicorn's latest minute.
    details = page.wait_for(f"document.querySelector('#details dl.summary[data-name={json.dumps(name)}]')"
                            "?.textContent", 5, what="the summary in the panel")
    assert "0.75 km" in details and "93 – 97" in details and "60" in details


def test_panel_lists_the_fleet_and_highlights_low_vitals(stack: LocalStack, page: Page) -> None:
    # A weak unicorn of this test's own, written where the page reads (the aggregator relays readings there).
    weak = f"Weakicorn-{uuid.uuid4().hex[:6]}"
    reading = {"Name": weak, "StatusTime": _status_time(), "Latitude": 40.75, "Longitude": -73.98, "Distance": 10.0,
               "HealthPoints": 42, "MagicPoints": 150}
    _put(stack, "wildrydes-map", [json.dumps(reading).encode()], weak)
    page.wait_for(f"wildrydesMap.unicorn({json.dumps(weak)})?.health === 42", 20, what=f"{weak} on the map")
    count = page.evaluate("wildrydesMap.names().length")
    page.evaluate("document.querySelector('[data-sort=name]').click(); true")
    rows = page.wait_for("""(() => {
        const rows = [...document.querySelectorAll('#fleet-list .row')].filter(r => !r.hidden);
        return rows.length ? rows.map(r => r.dataset.name) : null; })()""", 5)
    expected = sorted(page.evaluate("wildrydesMap.names()"), key=str)
    assert page.evaluate("document.getElementById('fleet-count').textContent").startswith(f"{count} unicorns")
    assert set(rows) <= set(expected) and len(rows) >= min(count, 15)
    # Sorted by vitals, weakest first: the weak unicorn (health 42) leads and stands out.
    page.evaluate("document.querySelector('[data-sort=vitals]').click(); true")
    first = page.wait_for("""(() => {
        const r = document.querySelector('#fleet-list .row:not([hidden])');
        if (!r || r.style.transform !== 'translateY(0px)') return null;
        return {name: r.dataset.name, low: r.classList.contains('low'),
                health: +r.querySelector('.health').textContent, magic: +r.querySelector('.magic').textContent};
    })()""", 5)
    assert first["low"] and first["name"] == weak and first["health"] == 42, first
    low_rows = page.evaluate("document.querySelectorAll('#fleet-list .row.low').length")
    assert low_rows >= 1
    assert int(page.evaluate("document.getElementById('low-count').textContent")) >= 1


def test_bad_records_are_skipped_and_counted(stack: LocalStack, page: Page) -> None:
    before = int(page.evaluate("document.getElementById('bad-count').textContent"))
    bad = [b"{not json", b"\xff\xfe", json.dumps({"Name": "", "Latitude": 1}).encode(),
           json.dumps({"Name": "Broken", "StatusTime": _status_time(), "Latitude": 400, "Longitude": 0,
                       "Distance": 1, "HealthPoints": 1, "MagicPoints": 1}).encode()]
    # Written to the stream the page reads (the aggregator quarantines bad records and relays none of them).
    _put(stack, "wildrydes-map", bad, "bad")
    page.wait_for(f"+document.getElementById('bad-count').textContent >= {before + 4}", 10, what="4 bad records")
    assert page.evaluate("wildrydesMap.unicorn('Broken')") is None
    applied = page.evaluate("wildrydesMap.fleet.applied")
    page.wait_for(f"wildrydesMap.fleet.applied > {applied}", 20, what="good records after the bad ones")


def test_screenshot_shows_the_basemap_and_the_page_used_no_network(page: Page) -> None:
    page.evaluate("document.querySelector('.leaflet-popup-close-button')?.click(); true")
    page.wait_for("!document.querySelector('.leaflet-popup')", 5, what="the popup closed")
    set_view(page, 40.749167, -73.985184, 12)
    png = page.screenshot(ARTIFACTS / "map.png")
    width, height, pixels = _decode_png(png)
    assert (width, height) == (1400, 900)
    map_area = [pixels[y][x] for y in range(60, 880, 4) for x in range(10, 960, 4)]
    share = {name: sum(_near(p, color) for p in map_area) / len(map_area)
             for name, color in (("water", WATER), ("park", PARK), ("borough", BOROUGH))}
    assert share["water"] > 0.05 and share["park"] > 0.005 and share["borough"] > 0.10, share
    assert len(set(map_area)) > 50  # not a blank page
    foreign = [u for u in page.log.requests if not u.startswith(("http://127.0.0.1:", "data:"))]
    assert foreign == [], foreign
    assert page.log.errors() == []


def test_outage_of_the_endpoint_shows_a_banner_that_clears_without_reload(stack: LocalStack, page: Page) -> None:
    page.evaluate("window.__notReloaded = true")
    assert page.evaluate("document.getElementById('banner').hidden")
    stack.stop()
    page.wait_for("!document.getElementById('banner').hidden", 20, what="the outage banner")
    text = page.evaluate("document.getElementById('banner').textContent")
    assert "Connection to the stream lost" in text and "Retrying" in text
    assert page.evaluate("document.getElementById('conn').textContent") == "reconnecting"
    # a few retries with backoff while down
    page.wait_for("[...wildrydesMap.status.readers.values()].some(s => !s.ok && s.attempt >= 3)", 30,
                  what="a third attempt to read while the stack is down")
    stack.start()
    page.wait_for("document.getElementById('banner').hidden", 60, what="the banner to clear")
    applied = page.evaluate("wildrydesMap.fleet.applied")
    page.wait_for(f"wildrydesMap.fleet.applied > {applied + 10}", 30, what="records after the outage")
    assert page.evaluate("window.__notReloaded === true")
    assert page.evaluate("wildrydesMap.status.outages") >= 1
    assert page.evaluate("document.getElementById('conn').textContent") == "live"


def _near(pixel: tuple[int, int, int], color: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=True))


def _decode_png(data: bytes) -> tuple[int, int, list[list[tuple[int, int, int]]]]:
    """Just enough PNG for a screenshot: 8-bit RGB or RGBA, not interlaced."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, header = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        offset += 12 + length
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color_type in (2, 6) and interlace == 0, (depth, color_type, interlace)
    channels = 3 if color_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows: list[list[tuple[int, int, int]]] = []
    previous = bytearray(stride)
    position = 0
    for _ in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1:position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else upper_left)) & 0xFF
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])  # type: ignore[misc]
        previous = line
    return width, height, rows


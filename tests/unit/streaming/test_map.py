"""The live map without a stack: config format and loader, the server (CSP, config.json, static files,
errors), no credentials anywhere in the page, the JS unit tests (node --test) and a committed bundle
that matches its sources."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.cli.map import aws_config_path, local_config
from localaws.settings import REPO_ROOT
from localaws.supervisor.preflight import free_port
from streaming.map.config import (
    MapConfig,
    MapConfigError,
    MapError,
    TileConfig,
    from_outputs,
    read_config,
    write_config,
)
from streaming.map.server import SITE_DIR, content_security_policy, make_server

MAP_DIR = REPO_ROOT / "streaming" / "map"
GUEST_ROLE = "arn:aws:iam::123456789012:role/wildrydes-MapUnauthenticatedRole"
OUTPUTS = {"MapIdentityPoolId": "us-east-1:1234", "MapUnauthenticatedRoleArn": GUEST_ROLE,
           "SourceStreamName": "wildrydes",
           "MapStreamName": "wildrydes-map", "SummaryStreamName": "wildrydes-summary", "Region": "us-east-1"}


def _deploy(data_dir: Path, endpoint: str = "http://127.0.0.1:4566") -> None:
    (data_dir / "deploy").mkdir(parents=True)
    (data_dir / "deploy" / "outputs.json").write_text(json.dumps(
        {"Region": "us-east-1", "EndpointUrl": endpoint, "Outputs": OUTPUTS}))


def test_local_config_comes_from_the_deploy_outputs(tmp_path: Path) -> None:
    _deploy(tmp_path)
    config = local_config(tmp_path)
    assert config.to_json() == {
        "region": "us-east-1", "identityPoolId": "us-east-1:1234", "guestRoleArn": GUEST_ROLE,
        "endpoint": "http://127.0.0.1:4566", "tiles": None, "pollIntervalMs": 1000,
        "streams": {"source": "wildrydes-map", "summary": "wildrydes-summary"},  # the map's own stream
    }
    # The running stack's endpoint wins over the one of the deploy; an explicit one wins over both.
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "stack.json").write_text(json.dumps({"endpoint": "http://127.0.0.1:5000"}))
    assert local_config(tmp_path).endpoint == "http://127.0.0.1:5000"
    assert local_config(tmp_path, "http://127.0.0.1:6000").endpoint == "http://127.0.0.1:6000"


def test_config_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(MapConfigError, match="wildrydes local up"):
        local_config(tmp_path)
    with pytest.raises(MapConfigError, match="MapIdentityPoolId, MapUnauthenticatedRoleArn, MapStreamName"):
        from_outputs({"SourceStreamName": "a", "SummaryStreamName": "b"}, None, "us-east-1")
    with pytest.raises(MapConfigError, match="endpoint"):
        MapConfig("us-east-1", "pool", GUEST_ROLE, "a", "b", endpoint="file:///etc/passwd")
    with pytest.raises(MapConfigError, match="guestRoleArn"):
        MapConfig("us-east-1", "pool", "", "a", "b")
    with pytest.raises(MapConfigError, match="does not exist"):
        read_config(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(MapConfigError, match="not valid JSON"):
        read_config(tmp_path / "bad.json")


def test_aws_config_round_trips_through_the_file_deploy_writes(tmp_path: Path) -> None:
    config = from_outputs(OUTPUTS, endpoint=None).with_tiles(TileConfig("https://tiles.example/{z}/{x}/{y}.png", "©"))
    path = write_config(aws_config_path(tmp_path), config)
    assert path == tmp_path / "deploy" / "map-config.aws.json"
    assert read_config(path) == config
    assert read_config(path).to_json()["endpoint"] is None


def test_csp_allows_only_this_server_and_the_configured_endpoint() -> None:
    local = content_security_policy(from_outputs(OUTPUTS, "http://127.0.0.1:4566"))
    assert "connect-src 'self' http://127.0.0.1:4566;" in local
    assert "script-src 'self';" in local and "default-src 'none'" in local
    aws = content_security_policy(from_outputs(OUTPUTS, None))
    assert ("https://kinesis.us-east-1.amazonaws.com https://cognito-identity.us-east-1.amazonaws.com "
            "https://sts.us-east-1.amazonaws.com;") in aws


@pytest.fixture()
def server() -> Iterator[str]:
    def source() -> MapConfig:
        raise MapConfigError("nothing deployed yet")

    httpd = make_server("127.0.0.1", free_port(), source)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_server_serves_the_page_config_and_nothing_else(server: str) -> None:
    url = server
    status, headers, body = _get(url + "/")
    assert status == 200 and b'<script type="module" src="app.js">' in body
    assert "Content-Security-Policy" in headers and headers["X-Content-Type-Options"] == "nosniff"
    status, _, body = _get(url + "/config.json")
    assert status == 503 and "nothing deployed yet" in json.loads(body)["error"]
    status, headers, _ = _get(url + "/app.js")
    assert status == 200 and headers["Content-Type"].startswith("text/javascript")
    assert _get(url + "/basemap/nyc.json")[0] == 200
    for path in ("/../server.py", "/%2e%2e/server.py", "/nope", "/..%2fconfig.py"):
        assert _get(url + path)[0] == 404, path
    assert _get(url + "/healthz")[2] == b"ok\n"


def test_server_refuses_a_busy_port() -> None:
    httpd = make_server("127.0.0.1", 0, lambda: from_outputs(OUTPUTS, None))
    try:
        with pytest.raises(MapError, match="cannot listen"):
            make_server("127.0.0.1", httpd.server_address[1], lambda: from_outputs(OUTPUTS, None))
    finally:
        httpd.server_close()


def test_map_command_prints_its_url_and_fails_in_one_line_on_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "config.json"
    bad.write_text('{"region": "us-east-1"}')
    result = subprocess.run([sys.executable, "-m", "infra.cli", "map", "--config", str(bad), "--port",
                             str(free_port())], capture_output=True, text=True, timeout=30, cwd=REPO_ROOT)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "identityPoolId" in result.stderr
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "infra.cli", "map", "--data-dir", str(tmp_path),
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               cwd=REPO_ROOT)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == f"map: http://127.0.0.1:{port}/"
        assert "not configured yet" in process.stdout.readline()
    finally:
        process.terminate()
        process.wait(60)


CREDENTIAL_PATTERNS = [
    re.compile(rb"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),  # access key ids
    re.compile(rb"(?i)aws_secret_access_key\s*[=:]"),
    re.compile(rb"(?i)(secretAccessKey|SecretKey)\s*:\s*[\"'][A-Za-z0-9/+]{20,}[\"']"),
]


def test_no_credentials_in_the_page_or_its_sources() -> None:
    files = [p for d in ("site", "src", "static") for p in (MAP_DIR / d).rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for pattern in CREDENTIAL_PATTERNS:
            assert not pattern.search(data), f"{path}: {pattern.pattern!r}"
    # The page gets credentials only from the Cognito identity pool (guest identities, no logins), by the basic
    # flow: a web identity token for the pool's guest role.
    aws = (MAP_DIR / "src" / "aws.js").read_text()
    assert "GetOpenIdTokenCommand" in aws and "fromWebToken" in aws and "config.guestRoleArn" in aws
    assert "logins" not in aws.lower() and "accessKeyId" not in aws and "GetCredentialsForIdentity" not in aws


def _node(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    if not (MAP_DIR / "node_modules" / ".package-lock.json").exists():
        pytest.fail("streaming/map/node_modules is missing: run `npm ci --prefix streaming/map`", pytrace=False)
    return subprocess.run(["node", *args], capture_output=True, text=True, timeout=timeout, cwd=MAP_DIR)


def test_javascript_unit_tests_pass() -> None:
    result = _node("--test", "--test-reporter=spec", "test/")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"pass [1-9]", result.stdout)


def test_the_served_bundle_matches_its_sources() -> None:
    """`make install` builds site/ from src/ and static/; a rebuild gives the same files (nothing stale)."""
    result = _node("build.mjs", "--check")
    assert result.returncode == 0, result.stderr or result.stdout
    assert (SITE_DIR / "index.html").is_file()

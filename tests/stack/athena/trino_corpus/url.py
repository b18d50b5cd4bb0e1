"""Trino docs: functions/url.md (examples of our own where the page gives none, from its definitions)."""

from __future__ import annotations

DOCUMENTED = ["url_extract_fragment", "url_extract_host", "url_extract_parameter", "url_extract_path",
              "url_extract_port", "url_extract_protocol", "url_extract_query", "url_encode", "url_decode"]

_URL = "'http://user@example.com:8080/a/b.html?x=1&y=2+3&x=4#frag'"

EXAMPLES = [
    ("url_extract_fragment", f"url_extract_fragment({_URL})", "frag", "varchar"),
    ("url_extract_host", f"url_extract_host({_URL})", "example.com", "varchar"),
    ("url_extract_parameter", f"url_extract_parameter({_URL}, 'x')", "1", "varchar"),
    ("url_extract_parameter", f"url_extract_parameter({_URL}, 'z')", None, "varchar"),
    ("url_extract_path", f"url_extract_path({_URL})", "/a/b.html", "varchar"),
    ("url_extract_port", f"url_extract_port({_URL})", "8080", "bigint"),
    ("url_extract_port", "url_extract_port('http://example.com/')", None, "bigint"),
    ("url_extract_protocol", "url_extract_protocol('http://localhost:8080/req_path')", "http", "varchar"),
    ("url_extract_protocol", "url_extract_protocol('https://127.0.0.1:8080/req_path')", "https", "varchar"),
    ("url_extract_protocol", "url_extract_protocol('ftp://path/file')", "ftp", "varchar"),
    ("url_extract_query", f"url_extract_query({_URL})", "x=1&y=2+3&x=4", "varchar"),
    ("url_encode", "url_encode('a b&c=d/é*.-_')", "a+b%26c%3Dd%2F%C3%A9*.-_", "varchar"),
    ("url_decode", "url_decode('a+b%26c%3Dd%2F%C3%A9')", "a b&c=d/é", "varchar"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}

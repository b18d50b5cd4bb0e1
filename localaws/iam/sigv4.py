"""Verify AWS Signature Version 4 (header and presigned query) on requests reaching the local endpoint.

Pure and standard-library only; its unit tests use botocore's signers as the oracle.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote

__all__ = ["SignatureError", "SignedRequest", "parse_signature", "verify"]

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_PRESIGN_EXPIRES = 604800  # one week, in seconds
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# Values x-amz-content-sha256 may hold besides a hex digest (the body is then aws-chunked or not signed).
_SPECIAL_PAYLOAD_HASHES = frozenset({
    UNSIGNED_PAYLOAD,
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
    "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER",
})
_HEX = frozenset("0123456789abcdefABCDEF")

_MISMATCH_MESSAGE = ("The request signature we calculated does not match the signature you provided. "
                     "Check your AWS Secret Access Key and signing method. "
                     "Consult the service documentation for details.")
_CONTENT_SHA_MESSAGE = "The provided 'x-amz-content-sha256' header does not match what was computed."


@dataclass(frozen=True)
class SignedRequest:
    """What a request's SigV4 signature claims: who signed it, for which scope, over which headers, and when."""

    access_key: str
    scope_date: str  # yyyymmdd from the credential scope
    region: str
    service: str  # signing name from the credential scope (kinesis, s3, sts, execute-api...)
    signed_headers: tuple[str, ...]  # lower-case, as listed
    signature: str
    timestamp: datetime  # tz-aware UTC
    session_token: str | None
    presigned: bool
    expires: int | None  # X-Amz-Expires seconds when presigned


class SignatureError(Exception):
    """A request whose signature is missing, malformed, stale or wrong; `code` is the AWS error code."""

    canonical_request: str = ""
    string_to_sign: str = ""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def _incomplete(message: str) -> SignatureError:
    return SignatureError("IncompleteSignature", message)


def _header_map(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Lower-case name -> values in arrival order."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        key = name.lower()
        values = found.get(key)
        if values is None:
            found[key] = [value]
        else:
            values.append(value)
    return found


def _query_pairs(query: str) -> list[tuple[str, str]]:
    """Decoded (key, value) pairs of a raw query string; a flag without '=' has the value ''."""
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((unquote(key), unquote(value)))
    return pairs


def _amz_date(text: str) -> datetime:
    """Parse yyyymmddThhmmssZ into a UTC datetime."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not (text[:8] + text[9:15]).isdigit():
        raise _incomplete(f"Invalid X-Amz-Date '{text}': it must be in ISO 8601 basic format (yyyyMMdd'T'HHmmss'Z').")
    try:
        return datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[9:11]), int(text[11:13]),
                        int(text[13:15]), tzinfo=UTC)
    except ValueError as err:
        raise _incomplete(f"Invalid X-Amz-Date '{text}': {err}.") from None


def _format_amz_date(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _http_date(text: str) -> datetime:
    try:
        ts = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        raise _incomplete(f"Invalid Date header '{text}'.") from None
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _split_credential(credential: str) -> tuple[str, str, str, str]:
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or not all(parts):
        raise _incomplete(f"Credential should be of the form <key>/<date>/<region>/<service>/aws4_request, "
                          f"got '{credential}'.")
    access_key, scope_date, region, service, terminator = parts
    if terminator != "aws4_request":
        raise _incomplete(f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'.")
    if len(scope_date) != 8 or not scope_date.isdigit():
        raise _incomplete(f"Credential should be scoped to a valid date (yyyymmdd), not '{scope_date}'.")
    return access_key, scope_date, region, service


def _split_signed_headers(value: str) -> tuple[str, ...]:
    names = tuple(name.strip().lower() for name in value.split(";"))
    if not names or not all(names):
        raise _incomplete(f"Invalid SignedHeaders '{value}'.")
    return names


def _check_scope_date(scope_date: str, timestamp: datetime, source: str) -> None:
    ts_text = _format_amz_date(timestamp)
    if ts_text[:8] != scope_date:
        raise _incomplete(f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
                          f"HTTP: '{scope_date}' != '{ts_text[:8]}', from '{source}'.")


def _parse_authorization(value: str, hmap: dict[str, list[str]]) -> SignedRequest:
    scheme, _, rest = value.strip().partition(" ")
    if scheme != ALGORITHM:
        if scheme == "AWS" or scheme.startswith("AWS4-ECDSA") or not scheme.startswith("AWS4"):
            raise _incomplete(f"Unsupported authorization scheme '{scheme}': only {ALGORITHM} is accepted.")
        raise _incomplete(f"Unsupported AWS authentication algorithm '{scheme}'.")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        key, eq, val = part.strip().partition("=")
        if not eq:
            raise _incomplete(f"Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
                              f"parameters, each as key=value. Authorization={value}")
        fields[key] = val.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise _incomplete(f"Authorization header requires '{missing[0]}' parameter. Authorization={value}")
    access_key, scope_date, region, service = _split_credential(fields["Credential"])
    signed_headers = _split_signed_headers(fields["SignedHeaders"])
    amz_dates = hmap.get("x-amz-date")
    if amz_dates:
        source = amz_dates[0].strip()
        timestamp = _amz_date(source)
    elif hmap.get("date"):
        source = hmap["date"][0].strip()
        timestamp = _http_date(source)
    else:
        raise _incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
                          f"Authorization={value}")
    _check_scope_date(scope_date, timestamp, source)
    tokens = hmap.get("x-amz-security-token")
    return SignedRequest(access_key=access_key, scope_date=scope_date, region=region, service=service,
                         signed_headers=signed_headers, signature=fields["Signature"], timestamp=timestamp,
                         session_token=tokens[0] if tokens else None, presigned=False, expires=None)


def _parse_presigned(params: dict[str, str], hmap: dict[str, list[str]]) -> SignedRequest:
    for key in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
                "X-Amz-Expires"):
        if not params.get(key):
            raise _incomplete(f"Query-string authentication requires the {key} parameter.")
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise _incomplete(f"Unsupported X-Amz-Algorithm '{params['X-Amz-Algorithm']}': only {ALGORITHM} is accepted.")
    access_key, scope_date, region, service = _split_credential(params["X-Amz-Credential"])
    signed_headers = _split_signed_headers(params["X-Amz-SignedHeaders"])
    timestamp = _amz_date(params["X-Amz-Date"])
    _check_scope_date(scope_date, timestamp, params["X-Amz-Date"])
    expires_text = params["X-Amz-Expires"]
    if not expires_text.isdigit():
        raise _incomplete(f"X-Amz-Expires should be a number of seconds, not '{expires_text}'.")
    token = params.get("X-Amz-Security-Token")
    if token is None:
        tokens = hmap.get("x-amz-security-token")
        token = tokens[0] if tokens else None
    return SignedRequest(access_key=access_key, scope_date=scope_date, region=region, service=service,
                         signed_headers=signed_headers, signature=params["X-Amz-Signature"], timestamp=timestamp,
                         session_token=token, presigned=True, expires=int(expires_text))


def parse_signature(raw_path: str, headers: Sequence[tuple[str, str]]) -> SignedRequest | None:
    """What the request's signature claims, or None when it carries none; SignatureError when it is malformed.

    raw_path is the path, then '?' and the query, exactly as received (still percent-encoded).
    """
    hmap = _header_map(headers)
    authorization = hmap.get("authorization")
    _, _, query = raw_path.partition("?")
    presigned = "X-Amz-Signature" in query or "X-Amz-Credential" in query
    params: dict[str, str] = {}
    if presigned:
        params = dict(_query_pairs(query))
        presigned = "X-Amz-Signature" in params or "X-Amz-Credential" in params
    if authorization:
        if presigned:
            raise _incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter "
                              "or the Authorization header should be specified.")
        return _parse_authorization(authorization[0], hmap)
    if presigned:
        return _parse_presigned(params, hmap)
    return None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal, also collapsing empty segments, as botocore and @smithy/signature-v4 do."""
    segments: list[str] = []
    for segment in path.split("/"):
        if not segment or segment == ".":
            continue
        if segment == "..":
            if segments:
                segments.pop()
        else:
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return first + "/".join(segments) + last


@functools.lru_cache(maxsize=1024)
def _canonical_uri(path: str, service_is_s3: bool) -> str:
    if service_is_s3:
        return path or "/"
    if not path:
        return "/"
    if "//" in path or "/." in path or path.startswith("."):
        path = _remove_dot_segments(path) or "/"
    return quote(path, safe="/~")


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = sorted(
        (quote(key, safe="-_.~"), quote(value, safe="-_.~"))
        for key, value in _query_pairs(query)
        if key != "X-Amz-Signature"
    )
    return "&".join(f"{key}={value}" for key, value in pairs)


@functools.lru_cache(maxsize=256)
def _signing_key(secret: str, scope_date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), scope_date.encode(), hashlib.sha256).digest()
    key = hmac.new(key, region.encode(), hashlib.sha256).digest()
    key = hmac.new(key, service.encode(), hashlib.sha256).digest()
    return hmac.new(key, b"aws4_request", hashlib.sha256).digest()


def _is_hex_digest(value: str) -> bool:
    return len(value) == 64 and _HEX.issuperset(value)


def _check_time(signed: SignedRequest, now: datetime, max_skew_seconds: int) -> None:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    ts = signed.timestamp if signed.timestamp.tzinfo is not None else signed.timestamp.replace(tzinfo=UTC)
    skew = timedelta(seconds=max_skew_seconds)
    if signed.presigned:
        expires = signed.expires or 0
        if expires > MAX_PRESIGN_EXPIRES:
            raise SignatureError("RequestExpired",
                                 f"X-Amz-Expires must be less than a week (in seconds) that is; {MAX_PRESIGN_EXPIRES}")
        if now > ts + timedelta(seconds=expires):
            raise SignatureError("RequestExpired", "Request has expired")
        if ts > now + skew:
            raise SignatureError("RequestExpired", "Request is not valid yet")
        return
    minutes = max_skew_seconds // 60
    if ts < now - skew:
        raise SignatureError("RequestExpired",
                             f"Signature expired: {_format_amz_date(ts)} is now earlier than "
                             f"{_format_amz_date(now - skew)} ({_format_amz_date(now)} - {minutes} min.)")
    if ts > now + skew:
        raise SignatureError("RequestExpired",
                             f"Signature not yet current: {_format_amz_date(ts)} is still later than "
                             f"{_format_amz_date(now + skew)} ({_format_amz_date(now)} + {minutes} min.)")


def verify(signed: SignedRequest, secret: str, method: str, raw_path: str,
           headers: Sequence[tuple[str, str]], body: bytes, now: datetime,
           *, max_skew_seconds: int = 900) -> None:
    """Raise SignatureError unless `signed` (from parse_signature) is a valid signature of this request by `secret`."""
    _check_time(signed, now, max_skew_seconds)
    hmap = _header_map(headers)
    path, _, query = raw_path.partition("?")
    is_s3 = signed.service == "s3"

    # Canonical headers: exactly the names listed, in their order; repeated values joined by ','.
    lines = []
    for name in signed.signed_headers:
        values = hmap.get(name)
        if values is None:
            raise SignatureError("SignatureDoesNotMatch", _MISMATCH_MESSAGE)  # a signed header is absent
        if len(values) == 1:
            lines.append(f"{name}:{' '.join(values[0].split())}")
        else:
            lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    canonical_headers = "\n".join(lines)

    # Payload hash; `declared` is a hex digest the client claims for the body, checked once the signature holds.
    declared: str | None = None
    alternative_payload: str | None = None
    content_sha = None
    if signed.presigned:
        for key, value in _query_pairs(query):
            if key == "X-Amz-Content-Sha256":
                content_sha = value
                break
    if content_sha is None:
        shas = hmap.get("x-amz-content-sha256")
        content_sha = shas[0].strip() if shas else None
    if content_sha is not None:
        if _is_hex_digest(content_sha):
            declared = content_sha
        elif content_sha not in _SPECIAL_PAYLOAD_HASHES:
            raise SignatureError("XAmzContentSHA256Mismatch",
                                 "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
                                 "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
                                 "or a valid sha256 value.")
        payload_hash = content_sha
    elif signed.presigned and is_s3:
        payload_hash = UNSIGNED_PAYLOAD
    elif signed.presigned:
        # botocore's SigV4QueryAuth and @smithy/signature-v4 presign() hash the (usually empty) body.
        payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        alternative_payload = UNSIGNED_PAYLOAD
    else:
        payload_hash = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256

    canonical_uri = _canonical_uri(path, is_s3)
    head = f"{method.upper()}\n"
    tail = f"\n{_canonical_query(query)}\n{canonical_headers}\n\n{';'.join(signed.signed_headers)}\n"
    scope = f"{signed.scope_date}/{signed.region}/{signed.service}/aws4_request"
    sts_prefix = f"{ALGORITHM}\n{_format_amz_date(signed.timestamp)}\n{scope}\n"
    key = _signing_key(secret, signed.scope_date, signed.region, signed.service)
    provided = signed.signature.strip().lower()
    if not provided.isascii():
        provided = ""

    def matches(uri: str, payload: str) -> tuple[bool, str, str]:
        canonical_request = f"{head}{uri}{tail}{payload}"
        string_to_sign = f"{sts_prefix}{hashlib.sha256(canonical_request.encode()).hexdigest()}"
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, provided), canonical_request, string_to_sign

    ok, canonical_request, string_to_sign = matches(canonical_uri, payload_hash)
    if not ok:
        # Lenient fallbacks, only paid on a mismatch.
        candidates: list[tuple[str, str]] = []
        if is_s3:
            reencoded = quote(unquote(path), safe="/~") or "/"
            if reencoded != canonical_uri:
                candidates.append((reencoded, payload_hash))
        if alternative_payload is not None:
            candidates.append((canonical_uri, alternative_payload))
        for uri, payload in candidates:
            if matches(uri, payload)[0]:
                ok = True
                break
    if not ok:
        error = SignatureError("SignatureDoesNotMatch", _MISMATCH_MESSAGE)
        error.canonical_request = canonical_request
        error.string_to_sign = string_to_sign
        raise error
    if declared is not None and declared.lower() != hashlib.sha256(body).hexdigest():
        raise SignatureError("XAmzContentSHA256Mismatch", _CONTENT_SHA_MESSAGE)

"""Time layouts of the contract: ``YYYY-MM-DD HH:MM:SS.fff`` in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def format_datetime(moment: datetime) -> str:
    """A datetime as ``YYYY-MM-DD HH:MM:SS.fff`` UTC (naive datetimes are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}"


def format_epoch_ms(ms: int) -> str:
    """Milliseconds since the epoch as ``YYYY-MM-DD HH:MM:SS.fff`` UTC, with integer arithmetic."""
    seconds, millis = divmod(int(ms), 1000)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{millis:03d}"


def epoch_seconds_to_ms(seconds: float) -> int:
    """Kinesis arrival timestamps in Lambda events are float seconds with millisecond precision."""
    return round(seconds * 1000)


def parse_iso(text: str) -> datetime:
    """An ISO-8601 time as in a tumbling-window event (``2020-12-09T07:04:00Z``), as aware UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_epoch_ms(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000

"""Trino docs: functions/bitwise.md (its try-sql examples with their results)."""

from __future__ import annotations

DOCUMENTED = ["bit_count", "bitwise_and", "bitwise_not", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
              "bitwise_right_shift", "bitwise_right_shift_arithmetic"]

EXAMPLES = [
    ("bit_count", "bit_count(9, 64)", "2", "bigint"),
    ("bit_count", "bit_count(9, 8)", "2", "bigint"),
    ("bit_count", "bit_count(-7, 64)", "62", "bigint"),
    ("bit_count", "bit_count(-7, 8)", "6", "bigint"),
    ("bitwise_and", "bitwise_and(19, 25)", "17", "bigint"),
    ("bitwise_not", "bitwise_not(-12)", "11", "bigint"),
    ("bitwise_not", "bitwise_not(19)", "-20", "bigint"),
    ("bitwise_not", "bitwise_not(25)", "-26", "bigint"),
    ("bitwise_or", "bitwise_or(19, 25)", "27", "bigint"),
    ("bitwise_xor", "bitwise_xor(19, 25)", "10", "bigint"),
    ("bitwise_left_shift", "bitwise_left_shift(1, 2)", "4", "integer"),
    ("bitwise_left_shift", "bitwise_left_shift(5, 2)", "20", "integer"),
    ("bitwise_left_shift", "bitwise_left_shift(20, 0)", "20", "integer"),
    ("bitwise_left_shift", "bitwise_left_shift(0, 2)", "0", "integer"),
    ("bitwise_right_shift", "bitwise_right_shift(8, 3)", "1", "integer"),
    ("bitwise_right_shift", "bitwise_right_shift(9, 1)", "4", "integer"),
    ("bitwise_right_shift", "bitwise_right_shift(42, 0)", "42", "integer"),
    ("bitwise_right_shift", "bitwise_right_shift(12, 64)", "0", "integer"),
    ("bitwise_right_shift", "bitwise_right_shift(-45, 64)", "0", "integer"),
    ("bitwise_right_shift", "bitwise_right_shift(0, 1)", "0", "integer"),
    ("bitwise_right_shift_arithmetic", "bitwise_right_shift_arithmetic(12, 64)", "0", "integer"),
    ("bitwise_right_shift_arithmetic", "bitwise_right_shift_arithmetic(-45, 64)", "-1", "integer"),
]

UNSUPPORTED: dict[str, tuple[str, str]] = {}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {}

"""DuckDB expression templates for Trino functions (used by trino_functions): each parsed once at import,
with placeholders ``_1``, ``_2`` ... that ``fill`` replaces by the (already rewritten) arguments, so a query
costs no SQL parsing. Lambda parameters are renamed ``__wr_<name>`` so that an argument naming a column
``x`` is not captured by a template's lambda parameter ``x`` (user SQL cannot name anything ``__wr_``)."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp


def _parse(sql: str) -> exp.Expression:
    """A template, its lambda parameters renamed ``__wr_<name>``: an argument put in the template may name
    a column ``x``, which a lambda parameter ``x`` would capture (users cannot name anything ``__wr_``)."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for function in list(tree.find_all(exp.Lambda)):
        names = {param.name for param in function.expressions}
        for node in function.find_all(exp.Identifier):
            if node.name in names and not (isinstance(node.parent, exp.PropertyEQ) and node.arg_key == "this"):
                node.set("this", f"__wr_{node.name}")
    return tree


_NIBBLES = "[" + ", ".join(f"'{i:04b}'" for i in range(16)) + "]"  # a hex digit's bits
_QUINTS = "[" + ", ".join(f"'{i:05b}'" for i in range(32)) + "]"  # a base32 digit's bits

TEMPLATES: dict[str, exp.Expression] = {name: _parse(sql) for name, sql in {
    "e": "CAST(2.718281828459045 AS DOUBLE)",
    "cbrt": "CASE WHEN round(cbrt(_1)) * round(cbrt(_1)) * round(cbrt(_1)) = _1 THEN round(cbrt(_1)) "
            "ELSE cbrt(_1) END",
    "width_bucket": "CASE WHEN CAST(_1 AS DOUBLE) < _2 THEN CAST(0 AS BIGINT) WHEN CAST(_1 AS DOUBLE) >= _3 "
                    "THEN CAST(_4 + 1 AS BIGINT) ELSE CAST(floor((CAST(_1 AS DOUBLE) - _2) * _4 / (CAST(_3 AS DOUBLE) "
                    "- _2)) AS BIGINT) + 1 END",
    "luhn_check": "list_sum(list_transform(range(length(_1)), i -> CASE WHEN i % 2 = 1 THEN "
                  "(CAST(substr(reverse(_1), i + 1, 1) AS INTEGER) * 2) // 10 + "
                  "(CAST(substr(reverse(_1), i + 1, 1) AS INTEGER) * 2) % 10 "
                  "ELSE CAST(substr(reverse(_1), i + 1, 1) AS INTEGER) END)) % 10 = 0",
    "split3": "CASE WHEN len(string_split(_1, _2)) <= _3 THEN string_split(_1, _2) ELSE "
              "list_append(string_split(_1, _2)[1:_3 - 1], array_to_string(string_split(_1, _2)[_3:], _2)) END",
    "split_part": "CASE WHEN _3 <= len(string_split(_1, _2)) THEN split_part(_1, _2, _3) END",
    "split_to_map": "map_from_entries(list_transform(string_split(_1, _2), x -> {'k': split_part(x, _3, 1), "
                    "'v': substr(x, length(split_part(x, _3, 1)) + length(_3) + 1)}))",
    "strpos3": "CASE WHEN _3 > 0 THEN (CASE WHEN len(string_split(_1, _2)) > _3 THEN "
               "length(array_to_string(string_split(_1, _2)[1:_3], _2)) + 1 ELSE 0 END) "
               "ELSE (CASE WHEN len(string_split(_1, _2)) > -_3 THEN length(_1) - "
               "length(array_to_string(string_split(reverse(_1), reverse(_2))[1:-_3], reverse(_2))) "
               "- length(_2) + 1 ELSE 0 END) END",
    "from_base": "CASE WHEN list_bool_or(list_transform(string_split(lower(ltrim(_1, '-+')), ''), "
                 "c -> strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) NOT BETWEEN 1 AND _2)) "
                 "THEN error('Not a valid base-' || _2 || ' number: ' || _1) "
                 "ELSE (CASE WHEN starts_with(_1, '-') THEN -1 ELSE 1 END) * "
                 "list_reduce(list_prepend(CAST(0 AS BIGINT), list_transform(string_split(lower(ltrim(_1, '-+')), ''), "
                 "c -> CAST(strpos('0123456789abcdefghijklmnopqrstuvwxyz', c) - 1 AS BIGINT))), "
                 "(a, d) -> a * _2 + d) END",
    "to_base": "CASE WHEN _1 < 0 THEN '-' || lower(to_base(-_1, _2)) ELSE lower(to_base(_1, _2)) END",
    "multimap_agg": "map_from_entries(list_transform(list_filter(list(_1), (x, i) -> list_position(list(_1), x) = i), "
                    "k -> {'key': k, 'value': list_transform(list_filter(list({'k': _1, 'v': _2}), "
                    "e -> struct_extract(e, 'k') = k), e -> struct_extract(e, 'v'))}))",
    "split_to_multimap": "map_from_entries(list_transform(list_filter(list_transform(string_split(_1, _2), "
                         "p -> split_part(p, _3, 1)), (x, i) -> list_position(list_transform(string_split(_1, _2), "
                         "p -> split_part(p, _3, 1)), x) = i), k -> {'key': k, 'value': list_transform(list_filter("
                         "string_split(_1, _2), p -> split_part(p, _3, 1) = k), "
                         "p -> substr(p, length(k) + length(_3) + 1))}))",
    "shuffle": "list_transform(list_sort(list_transform(_1, x -> {'r': random(), 'x': x})), "
               "e -> struct_extract(e, 'x'))",
    "from_base64url": "from_base64(rpad(translate(_1, '-_', '+/'), CAST((length(_1) + 3) // 4 * 4 AS INTEGER), '='))",
    "to_base64url": "translate(to_base64(_1), '+/', '-_')",
    "parse_data_size": "CAST(floor(CAST(regexp_extract(_1, '^\\s*([0-9]+(?:[.][0-9]*)?)\\s*([kMGTPEZY]?B)\\s*$', 1) "
                       "AS DOUBLE) * pow(1024, list_position(['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'], "
                       "regexp_extract(_1, '^\\s*([0-9]+(?:[.][0-9]*)?)\\s*([kMGTPEZY]?B)\\s*$', 2)) - 1)) "
                       "AS DECIMAL(38, 0))",
    "to_big_endian_32": "unhex(right('00000000' || hex(CAST(_1 AS INTEGER)), 8))",
    "to_big_endian_64": "unhex(right('0000000000000000' || hex(CAST(_1 AS BIGINT)), 16))",
    "from_big_endian_32": "CASE WHEN octet_length(_1) <> 4 THEN error('expected 4-byte input, but got instead: ' || "
                          "octet_length(_1)) WHEN CAST('0x' || hex(_1) AS UBIGINT) >= 2147483648 THEN "
                          "CAST(CAST(CAST('0x' || hex(_1) AS UBIGINT) AS BIGINT) - 4294967296 AS INTEGER) "
                          "ELSE CAST(CAST('0x' || hex(_1) AS UBIGINT) AS INTEGER) END",
    "from_big_endian_64": "CASE WHEN octet_length(_1) <> 8 THEN error('expected 8-byte input, but got instead: ' || "
                          "octet_length(_1)) WHEN CAST('0x' || hex(_1) AS UBIGINT) >= 9223372036854775808 THEN "
                          "CAST(CAST(CAST('0x' || hex(_1) AS UBIGINT) AS HUGEINT) - 18446744073709551616 AS BIGINT) "
                          "ELSE CAST(CAST('0x' || hex(_1) AS UBIGINT) AS BIGINT) END",
    "from_iso8601_date": "CASE WHEN regexp_matches(_1, '^[0-9]{4}-W[0-9]{2}(-[1-7])?$') THEN CAST("
                         "make_date(CAST(left(_1, 4) AS INTEGER), 1, 4) "
                         "+ CAST(1 - isodow(make_date(CAST(left(_1, 4) AS INTEGER), 1, 4)) "
                         "+ 7 * (CAST(substr(_1, 7, 2) AS INTEGER) - 1) "
                         "+ coalesce(TRY_CAST(substr(_1, 10, 1) AS INTEGER), 1) - 1 AS INTEGER) AS DATE) "
                         "WHEN regexp_matches(_1, '^[0-9]{4}-[0-9]{3}$') THEN "
                         "CAST(make_date(CAST(left(_1, 4) AS INTEGER), 1, 1) "
                         "+ CAST(CAST(substr(_1, 6, 3) AS INTEGER) - 1 AS INTEGER) AS DATE) "
                         "ELSE CAST(_1 AS DATE) END",
    "map_union": "map_from_entries(list_filter(flatten(list(map_entries(_1))), (e, i) -> list_position("
                 "list_transform(flatten(list(map_entries(_1))), x -> struct_extract(x, 'key')), "
                 "struct_extract(e, 'key')) = i))",
    "multimap_from_entries": "map_from_entries(list_transform(list_filter(list_transform(_1, "
                             "e -> struct_extract_at(e, 1)), (x, i) -> list_position(list_transform(_1, "
                             "e -> struct_extract_at(e, 1)), x) = i), k -> {'key': k, 'value': list_transform("
                             "list_filter(_1, e -> struct_extract_at(e, 1) = k), e -> struct_extract_at(e, 2))}))",
    "cosine_similarity": "list_sum(list_transform(map_keys(_1), k -> CAST(map_extract_value(_1, k) AS DOUBLE) "
                         "* coalesce(map_extract_value(_2, k), 0))) / (sqrt(list_sum(list_transform(map_values(_1), "
                         "v -> CAST(v AS DOUBLE) * v))) * sqrt(list_sum(list_transform(map_values(_2), "
                         "v -> CAST(v AS DOUBLE) * v))))",
    "approx_most_frequent": "map_from_entries(list_transform(list_slice(list_sort(list_transform("
                            "map_entries(histogram(_2)), e -> {'c': -CAST(struct_extract(e, 'value') AS BIGINT), "
                            "'key': struct_extract(e, 'key'), 'value': struct_extract(e, 'value')})), 1, _1), "
                            "e -> {'key': struct_extract(e, 'key'), "
                            "'value': CAST(struct_extract(e, 'value') AS BIGINT)}))",
    "parse_duration": "to_milliseconds(CAST(round(CAST(regexp_extract(_1, "
                      "'^\\s*([0-9]+(?:[.][0-9]*)?)\\s*(ns|us|ms|s|m|h|d)\\s*$', 1) AS DOUBLE) * "
                      "[0.000001, 0.001, 1, 1000, 60000, 3600000, 86400000][list_position("
                      "['ns', 'us', 'ms', 's', 'm', 'h', 'd'], "
                      "regexp_extract(_1, '^\\s*([0-9]+(?:[.][0-9]*)?)\\s*(ns|us|ms|s|m|h|d)\\s*$', 2))]) "
                      "AS BIGINT))",
    "from_unixtime_nanos": "CAST(make_timestamp_ns(CAST(_1 AS BIGINT)) AS TIMESTAMPTZ)",
    # from_utf8 without a replacement: each invalid byte becomes U+FFFD (a real '?' is protected meanwhile)
    "from_utf8_protect": "unhex(array_to_string(list_transform(regexp_extract_all(hex(_1), '..'), "
                         "h -> CASE WHEN h = '3F' THEN 'EE8080' ELSE h END), ''))",
    "from_utf8_restore": "replace(replace(_1, '?', '\uFFFD'), '\uE000', '?')",
    # CRC-32 (IEEE), bit by bit over the bytes
    "crc32": "xor(list_reduce(list_prepend(CAST(4294967295 AS BIGINT), list_transform(regexp_extract_all(hex(_1), "
             "'..'), h -> CAST(CAST('0x' || h AS UBIGINT) AS BIGINT))), (crc, byte) -> list_reduce(list_prepend("
             "xor(crc, byte), CAST(range(8) AS BIGINT[])), (c, k) -> CASE WHEN c & 1 = 1 THEN xor(c >> 1, "
             "CAST(3988292384 AS BIGINT)) ELSE c >> 1 END)), CAST(4294967295 AS BIGINT))",
    # IEEE 754: _1 is the bits as a signed integer (decode), or the value (encode; _2 its exponent, below)
    "ieee754_decode64": "CASE WHEN (_1 >> 52) & 2047 = 2047 THEN (CASE WHEN _1 & 4503599627370495 = 0 THEN "
                        "(CASE WHEN _1 < 0 THEN -1 ELSE 1 END) * CAST('inf' AS DOUBLE) ELSE CAST('nan' AS DOUBLE) END) "
                        "WHEN (_1 >> 52) & 2047 = 0 THEN (CASE WHEN _1 < 0 THEN -1 ELSE 1 END) "
                        "* CAST(_1 & 4503599627370495 AS DOUBLE) * pow(2, -1074) "
                        "ELSE (CASE WHEN _1 < 0 THEN -1 ELSE 1 END) * (1 + CAST(_1 & 4503599627370495 AS DOUBLE) "
                        "/ CAST(4503599627370496 AS DOUBLE)) * pow(2, ((_1 >> 52) & 2047) - 1023) END",
    "ieee754_decode32": "CAST(CASE WHEN (_1 >> 23) & 255 = 255 THEN (CASE WHEN _1 & 8388607 = 0 THEN "
                        "(CASE WHEN _1 < 0 THEN -1 ELSE 1 END) * CAST('inf' AS DOUBLE) ELSE CAST('nan' AS DOUBLE) END) "
                        "WHEN (_1 >> 23) & 255 = 0 THEN (CASE WHEN _1 < 0 THEN -1 ELSE 1 END) "
                        "* CAST(_1 & 8388607 AS DOUBLE) * pow(2, -149) "
                        "ELSE (CASE WHEN _1 < 0 THEN -1 ELSE 1 END) * (1 + CAST(_1 & 8388607 AS DOUBLE) "
                        "/ CAST(8388608 AS DOUBLE)) * pow(2, ((_1 >> 23) & 255) - 127) END AS FLOAT)",
    "ieee754_exponent": "CASE WHEN pow(2, CAST(floor(log2(abs(_1))) AS INTEGER)) > abs(_1) "
                        "THEN CAST(floor(log2(abs(_1))) AS INTEGER) - 1 "
                        "WHEN pow(2, CAST(floor(log2(abs(_1))) AS INTEGER) + 1) <= abs(_1) "
                        "THEN CAST(floor(log2(abs(_1))) AS INTEGER) + 1 ELSE CAST(floor(log2(abs(_1))) AS INTEGER) END",
    # unsigned bits as HUGEINT; _3, _4, _5: mantissa bits, exponent bias, smallest normal exponent
    "ieee754_encode": "(CASE WHEN starts_with(CAST(_1 AS VARCHAR), '-') THEN CAST(1 AS HUGEINT) << (_3 + _6) "
                      "ELSE CAST(0 AS HUGEINT) END) + CASE WHEN isnan(_1) THEN (CAST(1 AS HUGEINT) << (_3 + _6)) "
                      "- (CAST(1 AS HUGEINT) << (_3 - 1)) WHEN isinf(_1) THEN ((CAST(1 AS HUGEINT) << _6) - 1) << _3 "
                      "WHEN _1 = 0 THEN CAST(0 AS HUGEINT) "
                      "WHEN _2 < _5 THEN CAST(abs(_1) / pow(2, _5 - _3) AS HUGEINT) "
                      "ELSE (CAST(_2 + _4 AS HUGEINT) << _3) "
                      "+ CAST((abs(_1) / pow(2, _2) - 1) * pow(2, _3) AS HUGEINT) "
                      "END",
    "ieee754_bytes64": "unhex(right('0000000000000000' || hex(CAST(_1 AS UBIGINT)), 16))",
    "ieee754_bytes32": "unhex(right('00000000' || hex(CAST(_1 AS UINTEGER)), 8))",
    # Wilson score interval, in the order of operations Trino computes it
    "wilson_lower": "((CAST(_1 AS DOUBLE) / _2 + _3 * _3 / (2 * CAST(_2 AS DOUBLE))) "
                    "- _3 * sqrt((CAST(_1 AS DOUBLE) / _2 "
                    "* (1 - CAST(_1 AS DOUBLE) / _2) + _3 * _3 / (4 * CAST(_2 AS DOUBLE))) / _2)) "
                    "/ (1 + _3 * _3 / CAST(_2 AS DOUBLE))",
    "wilson_upper": "((CAST(_1 AS DOUBLE) / _2 + _3 * _3 / (2 * CAST(_2 AS DOUBLE))) "
                    "+ _3 * sqrt((CAST(_1 AS DOUBLE) / _2 "
                    "* (1 - CAST(_1 AS DOUBLE) / _2) + _3 * _3 / (4 * CAST(_2 AS DOUBLE))) / _2)) "
                    "/ (1 + _3 * _3 / CAST(_2 AS DOUBLE))",
    # base32 (RFC 4648) through the bit string of the bytes
    "base32_bits": "rpad(array_to_string(list_transform(regexp_extract_all(hex(_1), '.'), h -> list_extract("
                   + _NIBBLES + ", "
                   "strpos('0123456789ABCDEF', h))), ''), CAST((octet_length(_1) * 8 + 4) // 5 * 5 AS INTEGER), '0')",
    "to_base32": "rpad(array_to_string(list_transform(range(length(_1) // 5), i -> substr("
                 "'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 1 + 16 * CAST(substr(_1, i * 5 + 1, 1) AS INTEGER) "
                 "+ 8 * CAST(substr(_1, i * 5 + 2, 1) AS INTEGER) + 4 * CAST(substr(_1, i * 5 + 3, 1) AS INTEGER) "
                 "+ 2 * CAST(substr(_1, i * 5 + 4, 1) AS INTEGER) + CAST(substr(_1, i * 5 + 5, 1) AS INTEGER), 1)), "
                 "''), "
                 "CAST((length(_1) // 5 + 7) // 8 * 8 AS INTEGER), '=')",
    "from_base32_bits": "array_to_string(list_transform(regexp_extract_all(rtrim(upper(_1), '='), '.'), "
                        "c -> list_extract("
                        + _QUINTS + ", "
                        "strpos('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', c))), '')",
    "from_base32": "unhex(array_to_string(list_transform(range(length(_1) // 4 // 2 * 2), i -> substr("
                   "'0123456789ABCDEF', 1 + 8 * CAST(substr(_1, i * 4 + 1, 1) AS INTEGER) "
                   "+ 4 * CAST(substr(_1, i * 4 + 2, 1) AS INTEGER) + 2 * CAST(substr(_1, i * 4 + 3, 1) AS INTEGER) "
                   "+ CAST(substr(_1, i * 4 + 4, 1) AS INTEGER), 1)), ''))",
    # American Soundex of the letters of _1 (H and W do not separate equal codes, vowels do)
    "soundex": "CASE WHEN regexp_replace(upper(_1), '[^A-Z]', '', 'g') = '' THEN '' ELSE rpad(left(struct_extract("
               "list_reduce(regexp_extract_all(substr(regexp_replace(upper(_1), '[^A-Z]', '', 'g'), 2), '.'), "
               "(st, ch) -> CASE WHEN ch IN ('H', 'W') THEN st "
               "WHEN substr('01230120022455012623010202', ascii(ch) - 64, 1) = '0' "
               "THEN {'out': struct_extract(st, 'out'), 'last': '0'} "
               "WHEN substr('01230120022455012623010202', ascii(ch) - 64, 1) = struct_extract(st, 'last') THEN st "
               "ELSE {'out': struct_extract(st, 'out') || substr('01230120022455012623010202', ascii(ch) - 64, 1), "
               "'last': substr('01230120022455012623010202', ascii(ch) - 64, 1)} END, "
               "{'out': left(regexp_replace(upper(_1), '[^A-Z]', '', 'g'), 1), 'last': substr("
               "'01230120022455012623010202', ascii(left(regexp_replace(upper(_1), '[^A-Z]', '', 'g'), 1)) - 64, 1)}), "
               "'out'), 4), 4, '0') END",
    # format_number: _1 the value as a bigint, _2 the number of thousands divided out (at most 5), _3 v / 1000^_2
    "format_number": "regexp_replace(regexp_replace(CAST(round(CAST(CAST(_3 AS VARCHAR) AS DECIMAL(38, 12)), "
                     "CASE WHEN _3 < 10 THEN 2 WHEN _3 < 100 THEN 1 ELSE 0 END) AS VARCHAR), "
                     "'([.][0-9]*?)0+$', '\\1'), "
                     "'[.]$', '') || list_extract(['', 'K', 'M', 'B', 'T', 'Q'], _2 + 1)",
    "format_number_unit": "CASE WHEN abs(_1) >= 1000000000000000 THEN 5 WHEN abs(_1) >= 1000000000000 THEN 4 "
                          "WHEN abs(_1) >= 1000000000 THEN 3 WHEN abs(_1) >= 1000000 THEN 2 "
                          "WHEN abs(_1) >= 1000 THEN 1 ELSE 0 END",
    "format_number_value": "CAST(_1 AS DOUBLE) / pow(1000, _2)",
    "to_milliseconds": "CAST(round(epoch(_1) * 1000) AS BIGINT)",
    "human_readable_seconds": "coalesce(nullif(array_to_string(list_filter(["
                              "CASE WHEN _1 // 604800 > 0 THEN (_1 // 604800) || ' week' || "
                              "CASE WHEN _1 // 604800 > 1 THEN 's' ELSE '' END END, "
                              "CASE WHEN _1 % 604800 // 86400 > 0 THEN (_1 % 604800 // 86400) || ' day' || "
                              "CASE WHEN _1 % 604800 // 86400 > 1 THEN 's' ELSE '' END END, "
                              "CASE WHEN _1 % 86400 // 3600 > 0 THEN (_1 % 86400 // 3600) || ' hour' || "
                              "CASE WHEN _1 % 86400 // 3600 > 1 THEN 's' ELSE '' END END, "
                              "CASE WHEN _1 % 3600 // 60 > 0 THEN (_1 % 3600 // 60) || ' minute' || "
                              "CASE WHEN _1 % 3600 // 60 > 1 THEN 's' ELSE '' END END, "
                              "CASE WHEN _1 % 60 > 0 THEN (_1 % 60) || ' second' || "
                              "CASE WHEN _1 % 60 > 1 THEN 's' ELSE '' END END], x -> x IS NOT NULL), ', '), ''), "
                              "'0 seconds')",
    "millisecond": "CAST(millisecond(_1) % 1000 AS BIGINT)",
    "yow": "CAST(isoyear(_1) AS BIGINT)",
    "typeof": "lower(typeof(_1))",
    "bit_count": "CAST(CASE WHEN _2 >= 64 THEN bit_count(CAST(_1 AS BIGINT)) ELSE "
                 "bit_count(CAST(_1 AS BIGINT) & ((CAST(1 AS BIGINT) << _2) - 1)) END AS BIGINT)",
    "bitwise_and": "CAST(_1 AS BIGINT) & CAST(_2 AS BIGINT)",
    "bitwise_or": "CAST(_1 AS BIGINT) | CAST(_2 AS BIGINT)",
    "bitwise_xor": "xor(CAST(_1 AS BIGINT), CAST(_2 AS BIGINT))",
    "bitwise_not": "~CAST(_1 AS BIGINT)",
    "bitwise_left_shift": "CASE WHEN _2 >= 64 THEN 0 ELSE CAST(_1 AS BIGINT) << _2 END",
    "bitwise_right_shift": "CASE WHEN _2 >= 64 THEN 0 WHEN _2 = 0 THEN CAST(_1 AS BIGINT) "
                           "WHEN _1 >= 0 THEN CAST(_1 AS BIGINT) >> _2 "
                           "ELSE (CAST(_1 AS BIGINT) >> _2) & ((CAST(1 AS BIGINT) << (64 - _2)) - 1) END",
    "bitwise_right_shift_arithmetic": "CASE WHEN _2 >= 64 THEN (CASE WHEN _1 < 0 THEN -1 ELSE 0 END) "
                                      "ELSE CAST(_1 AS BIGINT) >> _2 END",
    "octet_length": "CAST(octet_length(_1) AS BIGINT)",
    "sha1": "unhex(sha1(_1))",
    "sha256": "unhex(sha256(_1))",
    "url_extract_protocol": "nullif(regexp_extract(_1, '^([A-Za-z][A-Za-z0-9+.-]*):', 1), '')",
    "url_extract_host": "nullif(regexp_extract(_1, '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?([^/:?#]+)', 1), '')",
    "url_extract_port": "TRY_CAST(nullif(regexp_extract(_1, "
                        "'^[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#]*@)?[^/:?#]+:([0-9]+)', 1), '') AS BIGINT)",
    "url_extract_path": "regexp_extract(_1, '^(?:[A-Za-z][A-Za-z0-9+.-]*:)?(?://[^/?#]*)?([^?#]*)', 1)",
    "url_extract_query": "CASE WHEN regexp_matches(_1, '^[^#]*[?]') THEN regexp_extract(_1, '^[^#]*[?]([^#]*)', 1) END",
    "url_extract_fragment": "CASE WHEN strpos(_1, '#') > 0 THEN regexp_extract(_1, '#(.*)$', 1) END",
    "url_extract_parameter": "CASE WHEN regexp_matches(regexp_extract(_1, '^[^#]*[?]([^#]*)', 1), "
                             "'(^|&)' || _2 || '(=|&|$)') THEN url_decode(regexp_extract(regexp_extract(_1, "
                             "'^[^#]*[?]([^#]*)', 1), '(^|&)' || _2 || '=([^&]*)', 2)) END",
    "url_encode": "replace(replace(replace(url_encode(_1), '%20', '+'), '%2A', '*'), '~', '%7E')",
    "url_decode": "url_decode(replace(_1, '+', ' '))",
    "regexp_extract2": "CASE WHEN regexp_matches(_1, _2) THEN regexp_extract(_1, _2) END",
    "regexp_extract3": "CASE WHEN regexp_matches(_1, _2) THEN regexp_extract(_1, _2, _3) END",
    "regexp_position": "CASE WHEN len(regexp_extract_all(substr(_1, _3), _2)) >= _4 THEN CAST(_3 - 1 + "
                       "length(array_to_string(regexp_split_to_array(substr(_1, _3), _2)[1:_4], '')) + "
                       "length(array_to_string(regexp_extract_all(substr(_1, _3), _2)[1:_4 - 1], '')) + 1 AS INTEGER) "
                       "ELSE -1 END",
    "is_json_scalar": "json_type(json(_1)) NOT IN ('OBJECT', 'ARRAY')",
    "json_array_contains": "list_contains(CAST(json_extract(_1, '$[*]') AS VARCHAR[]), CAST(to_json(_2) AS VARCHAR))",
    "json_array_get": "json_extract(_1, '$[' || CASE WHEN _2 >= 0 THEN CAST(_2 AS VARCHAR) "
                      "ELSE '#' || CAST(_2 AS VARCHAR) END || ']')",
    "contains_sequence": "len(_2) = 0 OR coalesce(list_bool_or(list_transform(range(1, len(_1) - len(_2) + 2), "
                         "i -> _1[i:i + len(_2) - 1] = _2)), false)",
    "zip": "list_transform(list_zip(_1, _2), e -> {'field0': struct_extract_at(e, 1), "
           "'field1': struct_extract_at(e, 2)})",
    "map_entries": "list_transform(map_entries(_1), e -> {'field0': struct_extract(e, 'key'), "
                   "'field1': struct_extract(e, 'value')})",
    "list_append": "list_append(_1, _2)",
    "binary_substr2": "unhex(substr(hex(_1), 2 * (CASE WHEN _2 < 0 THEN octet_length(_1) + _2 + 1 ELSE _2 END) - 1))",
    "binary_substr3": "unhex(substr(hex(_1), 2 * (CASE WHEN _2 < 0 THEN octet_length(_1) + _2 + 1 ELSE _2 END) - 1, "
                      "2 * _3))",
    "binary_reverse": "unhex(array_to_string(list_reverse(regexp_extract_all(hex(_1), '..')), ''))",
    "binary_lpad": "unhex(lpad(hex(_1), 2 * _2, hex(_3)))",
    "binary_rpad": "unhex(rpad(hex(_1), 2 * _2, hex(_3)))",
    "list_prepend": "list_prepend(_1, _2)",
    "json_size": "CASE WHEN json_type(_1, _2) IS NULL THEN NULL WHEN json_type(_1, _2) = 'ARRAY' THEN "
                 "CAST(json_array_length(_1, _2) AS BIGINT) WHEN json_type(_1, _2) = 'OBJECT' THEN "
                 "CAST(len(json_keys(_1, _2)) AS BIGINT) ELSE CAST(0 AS BIGINT) END",
    "json_extract_scalar": "CASE WHEN json_type(_1, _2) IN ('OBJECT', 'ARRAY') THEN NULL "
                           "ELSE json_extract_string(_1, _2) END",
    "json_text": "json_extract_string(_1, '$')",
    "to_json": "to_json(_1)",
    "varchar": "CAST(_1 AS VARCHAR)",
    "array_max": "CASE WHEN list_count(_1) < len(_1) THEN NULL ELSE list_max(_1) END",
    "array_min": "CASE WHEN list_count(_1) < len(_1) THEN NULL ELSE list_min(_1) END",
    "array_position": "CAST(coalesce(list_position(_1, _2), 0) AS BIGINT)",
    "contains": "CASE WHEN _2 IS NULL THEN NULL WHEN list_contains(_1, _2) THEN true "
                "WHEN list_count(_1) < len(_1) THEN NULL ELSE false END",
    "arrays_overlap": "CASE WHEN list_has_any(_1, _2) THEN true WHEN list_count(_1) < len(_1) "
                      "OR list_count(_2) < len(_2) THEN NULL ELSE false END",
    "ngrams": "list_transform(range(1, greatest(len(_1) - _2 + 1, 1) + 1), i -> _1[i:i + _2 - 1])",
    "repeat": "list_transform(range(_2), i -> _1)",
    "list_reverse": "list_reverse(_1)",
    "trim_array": "_1[1:len(_1) - _2]",
    "sequence2": "generate_series(_1, _2, CASE WHEN _1 <= _2 THEN 1 ELSE -1 END)",
    "date_sequence2": "CAST(generate_series(CAST(_1 AS TIMESTAMP), CAST(_2 AS TIMESTAMP), "
                      "CASE WHEN _1 <= _2 THEN INTERVAL 1 DAY ELSE INTERVAL -1 DAY END) AS DATE[])",
    "date_sequence3": "CAST(generate_series(CAST(_1 AS TIMESTAMP), CAST(_2 AS TIMESTAMP), _3) AS DATE[])",
    "bigint": "CAST(_1 AS BIGINT)",
    "date": "CAST(_1 AS DATE)",
    "timestamptz": "CAST(_1 AS TIMESTAMPTZ)",
    "with_timezone": "timezone(_2, CAST(_1 AS TIMESTAMP))",
    "all_match": "CASE WHEN list_contains(_1, false) THEN false WHEN list_count(_1) < len(_1) THEN NULL "
                 "ELSE true END",
    "any_match": "CASE WHEN list_contains(_1, true) THEN true WHEN list_count(_1) < len(_1) THEN NULL "
                 "ELSE false END",
    "none_match": "CASE WHEN list_contains(_1, true) THEN false WHEN list_count(_1) < len(_1) THEN NULL "
                  "ELSE true END",
    # regexp_replace(s, p, x -> ...): the text between matches, each match replaced by the lambda's value
    "regexp_replace_by": "array_to_string(list_transform(range(1, len(regexp_split_to_array(_1, _2)) + 1), "
                         "k -> list_extract(regexp_split_to_array(_1, _2), k) || CASE WHEN k < "
                         "len(regexp_split_to_array(_1, _2)) THEN coalesce(_3, '') ELSE '' END), '')",
    # array_sort(a, comparator): each element ranked by how many others the comparator puts before it
    "array_sort_by": "list_transform(list_sort(list_transform(range(1, len(_1) + 1), i -> {'r': len(list_filter("
                     "range(1, len(_1) + 1), j -> j <> i AND (_2 < 0 OR (_2 = 0 AND j < i)))), "
                     "'v': list_extract(_1, i)})), e -> struct_extract(e, 'v'))",
    "ordered_distinct": "list_filter(_1, (x, i) -> list_position(_1, x) = i)",
    "array_except": "list_filter(list_filter(_1, x -> NOT list_contains(_2, x)), "
                    "(x, i) -> list_position(list_filter(_1, y -> NOT list_contains(_2, y)), x) = i)",
}.items()}

_PLACEHOLDER = re.compile(r"_\d$")


def fill(name: str, *args: exp.Expression) -> exp.Expression:
    """The template ``name`` with its placeholders ``_1`` .. ``_n`` replaced by copies of ``args``."""
    def place(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and _PLACEHOLDER.match(node.name):
            return args[int(node.name[1:]) - 1].copy()
        return node
    return TEMPLATES[name].copy().transform(place, copy=False)

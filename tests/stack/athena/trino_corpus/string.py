"""Trino docs: functions/string.md (examples of our own where the page gives none, from its definitions)."""

from __future__ import annotations

DOCUMENTED = [
    "||", "chr", "codepoint", "concat", "concat_ws", "ends_with", "hamming_distance", "length",
    "levenshtein_distance", "lower", "lpad", "ltrim", "luhn_check", "overlay", "position", "replace", "reverse",
    "rpad", "rtrim", "soundex", "split", "split_part", "split_to_map", "split_to_multimap", "strpos", "starts_with",
    "substr", "substring", "title_case", "translate", "trim", "upper", "word_stem", "normalize", "to_utf8",
    "from_utf8",
]

EXAMPLES = [
    ("||", "'ab' || 'cd'", "abcd", "varchar"),
    ("chr", "chr(65)", "A", "varchar"),
    ("codepoint", "codepoint('A')", "65", "integer"),
    ("concat", "concat('ab', 'cd', 'ef')", "abcdef", "varchar"),
    ("concat", "concat('ab', NULL)", None, "varchar"),
    ("concat_ws", "concat_ws(',', 'a', NULL, 'b')", "a,b", "varchar"),
    ("concat_ws", "concat_ws(NULL, 'a', 'b')", None, "varchar"),
    ("concat_ws", "concat_ws('-', ARRAY['a', NULL, 'b'])", "a-b", "varchar"),
    ("ends_with", "ends_with('abc', 'bc')", "true", "boolean"),
    ("hamming_distance", "hamming_distance('abcde', 'abXdY')", "2", "bigint"),
    ("length", "length('hello')", "5", "bigint"),
    ("levenshtein_distance", "levenshtein_distance('kitten', 'sitting')", "3", "bigint"),
    ("lower", "lower('AbC')", "abc", "varchar"),
    ("lpad", "lpad('ab', 5, 'xy')", "xyxab", "varchar"),
    ("lpad", "lpad('abcdef', 3, 'x')", "abc", "varchar"),
    ("ltrim", "ltrim('  abc  ')", "abc  ", "varchar"),
    ("luhn_check", "luhn_check('79927398713')", "true", "boolean"),
    ("luhn_check", "luhn_check('79927398714')", "false", "boolean"),
    ("overlay", "overlay('Txxxxas' PLACING 'hom' FROM 2 FOR 4)", "Thomas", "varchar"),
    ("position", "position('b' IN 'abc')", "2", "bigint"),
    ("position", "position('x' IN 'abc')", "0", "bigint"),
    ("replace", "replace('abcabc', 'b')", "acac", "varchar"),
    ("replace", "replace('abc', 'b', 'xy')", "axyc", "varchar"),
    ("reverse", "reverse('abc')", "cba", "varchar"),
    ("rpad", "rpad('ab', 5, 'xy')", "abxyx", "varchar"),
    ("rpad", "rpad('abcdef', 3, 'x')", "abc", "varchar"),
    ("rtrim", "rtrim('  abc  ')", "  abc", "varchar"),
    ("split", "split('a,b,c', ',')", "[a, b, c]", "array"),
    ("split", "split('a,b,c', ',', 2)", "[a, b,c]", "array"),
    ("split_part", "split_part('a,b,c', ',', 2)", "b", "varchar"),
    ("split_part", "split_part('a,b,c', ',', 4)", None, "varchar"),
    ("split_to_map", "split_to_map('a=1,b=2', ',', '=')", "{a=1, b=2}", "map"),
    ("strpos", "strpos('abcabc', 'c')", "3", "bigint"),
    ("strpos", "strpos('abc', 'x')", "0", "bigint"),
    ("strpos", "strpos('abcabc', 'c', 2)", "6", "bigint"),
    ("strpos", "strpos('abcabc', 'a', -1)", "4", "bigint"),
    ("starts_with", "starts_with('abc', 'ab')", "true", "boolean"),
    ("substr", "substr('abcdef', 3)", "cdef", "varchar"),
    ("substr", "substr('abcdef', -2)", "ef", "varchar"),
    ("substring", "substring('abcdef', 2, 3)", "bcd", "varchar"),
    ("substring", "substring('abcdef', -3, 2)", "de", "varchar"),
    ("translate", "translate('abcd', '', '')", "abcd", "varchar"),
    ("translate", "translate('abcd', 'a', 'z')", "zbcd", "varchar"),
    ("translate", "translate('abcda', 'a', 'z')", "zbcdz", "varchar"),
    ("translate", "translate('Palhoça', 'ç', 'c')", "Palhoca", "varchar"),
    ("translate", "translate('abcd', 'a', '')", "bcd", "varchar"),
    ("translate", "translate('abcd', 'a', 'zy')", "zbcd", "varchar"),
    ("translate", "translate('abcd', 'ac', 'z')", "zbd", "varchar"),
    ("translate", "translate('abcd', 'aac', 'zq')", "zbd", "varchar"),
    ("trim", "trim('  abc  ')", "abc", "varchar"),
    ("trim", "trim('!' FROM '!foo!')", "foo", "varchar"),
    ("trim", "trim(LEADING FROM '  abcd')", "abcd", "varchar"),
    ("trim", "trim(BOTH '$' FROM '$var$')", "var", "varchar"),
    ("trim", "trim(TRAILING 'ER' FROM upper('worker'))", "WORK", "varchar"),
    ("upper", "upper('aBc')", "ABC", "varchar"),
    ("normalize", "normalize('abc')", "abc", "varchar"),
    ("to_utf8", "to_utf8('abc')", "61 62 63", "varbinary"),
    ("from_utf8", "from_utf8(to_utf8('héllo'))", "héllo", "varchar"),
    ("from_utf8", "from_utf8(from_hex('61FF62'))", "a\ufffdb", "varchar"),
    ("from_utf8", "from_utf8(from_hex('61FF62'), '?')", "a?b", "varchar"),
]

UNSUPPORTED = {
    "soundex": ("soundex('CHYNA') = soundex('CHINA')", "not implemented by the local engine"),
    "split_to_multimap": ("split_to_multimap('a=1,b=2,a=3', ',', '=')", "not implemented by the local engine"),
    "title_case": ("title_case('hello world')", "added to Trino after the release Athena engine v3 is based on"),
    "word_stem": ("word_stem('running')", "not implemented by the local engine"),
}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {
    "concat('ab', NULL)":
        (None, 'unknown',
         "a NULL argument types DuckDB's result as NULL (Athena: varchar)"),
    "from_utf8(from_hex('61FF62'))":
        ('ERROR: INVALID_CAST_ARGUMENT', None,
         "DuckDB's decode refuses invalid UTF-8 where Trino replaces it"),
    "from_utf8(from_hex('61FF62'), '?')":
        ('ERROR: INVALID_CAST_ARGUMENT', None,
         "DuckDB's decode refuses invalid UTF-8 where Trino replaces it"),
}

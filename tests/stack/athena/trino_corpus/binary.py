"""Trino docs: functions/binary.md (examples of our own where the page gives none: the digests of 'abc'
are the standard test vectors; varbinary is written as Athena writes it, spaced lower-case hex)."""

from __future__ import annotations

DOCUMENTED = [
    "||", "concat", "length", "lpad", "rpad", "substr", "reverse", "from_base64", "to_base64", "from_base64url",
    "to_base64url", "from_base32", "to_base32", "from_hex", "to_hex", "from_big_endian_32", "to_big_endian_32",
    "from_big_endian_64", "to_big_endian_64", "from_ieee754_32", "to_ieee754_32", "from_ieee754_64",
    "to_ieee754_64", "crc32", "md5", "sha1", "sha256", "sha512", "spooky_hash_v2_32", "spooky_hash_v2_64",
    "xxhash64", "murmur3", "hmac_md5", "hmac_sha1", "hmac_sha256", "hmac_sha512", "zstd_compress", "zstd_decompress",
]

_ABC = "to_utf8('abc')"

EXAMPLES = [
    ("||", f"{_ABC} || to_utf8('d')", "61 62 63 64", "varbinary"),
    ("concat", f"concat({_ABC}, to_utf8('d'))", "61 62 63 64", "varbinary"),
    ("length", f"length({_ABC})", "3", "bigint"),
    ("lpad", f"lpad({_ABC}, 5, to_utf8('x'))", "78 78 61 62 63", "varbinary"),
    ("rpad", f"rpad({_ABC}, 2, to_utf8('x'))", "61 62", "varbinary"),
    ("substr", f"substr({_ABC}, 2)", "62 63", "varbinary"),
    ("substr", f"substr({_ABC}, -2, 1)", "62", "varbinary"),
    ("reverse", f"reverse({_ABC})", "63 62 61", "varbinary"),
    ("from_base64", "from_base64('YWJj')", "61 62 63", "varbinary"),
    ("to_base64", f"to_base64({_ABC})", "YWJj", "varchar"),
    ("from_base64url", "from_base64url('_-8')", "ff ef", "varbinary"),
    ("to_base64url", "to_base64url(from_hex('FFEF'))", "_-8=", "varchar"),
    ("from_base32", "from_base32('MFRGG===')", "61 62 63", "varbinary"),
    ("to_base32", f"to_base32({_ABC})", "MFRGG===", "varchar"),
    ("to_base32", "to_base32(to_utf8('foobar'))", "MZXW6YTBOI======", "varchar"),
    ("from_hex", "from_hex('616263')", "61 62 63", "varbinary"),
    ("to_hex", f"to_hex({_ABC})", "616263", "varchar"),
    ("crc32", f"crc32({_ABC})", "891568578", "bigint"),
    ("crc32", "crc32(to_utf8(''))", "0", "bigint"),
    ("from_ieee754_32", "from_ieee754_32(from_hex('3F800000'))", "1.0", None),
    ("from_ieee754_32", "from_ieee754_32(from_hex('C0200000'))", "-2.5", None),
    ("to_ieee754_32", "to_ieee754_32(REAL '1.0')", "3f 80 00 00", "varbinary"),
    ("from_ieee754_64", "from_ieee754_64(from_hex('3FF0000000000000'))", "1.0", "double"),
    ("from_ieee754_64", "from_ieee754_64(from_hex('0000000000000001'))", "4.9E-324", "double"),
    ("to_ieee754_64", "to_ieee754_64(1.0E0)", "3f f0 00 00 00 00 00 00", "varbinary"),
    ("to_ieee754_64", "to_ieee754_64(-0.1E0)", "bf b9 99 99 99 99 99 9a", "varbinary"),
    ("from_big_endian_32", "from_big_endian_32(from_hex('0000000A'))", "10", "integer"),
    ("from_big_endian_32", "from_big_endian_32(from_hex('FFFFFFFE'))", "-2", "integer"),
    ("to_big_endian_32", "to_big_endian_32(10)", "00 00 00 0a", "varbinary"),
    ("to_big_endian_32", "to_big_endian_32(-2)", "ff ff ff fe", "varbinary"),
    ("from_big_endian_64", "from_big_endian_64(from_hex('FFFFFFFFFFFFFFFF'))", "-1", "bigint"),
    ("to_big_endian_64", "to_big_endian_64(1)", "00 00 00 00 00 00 00 01", "varbinary"),
    ("md5", f"to_hex(md5({_ABC}))", "900150983CD24FB0D6963F7D28E17F72", "varchar"),
    ("sha1", f"to_hex(sha1({_ABC}))", "A9993E364706816ABA3E25717850C26C9CD0D89D", "varchar"),
    ("sha256", f"to_hex(sha256({_ABC}))", "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
     "varchar"),
]

UNSUPPORTED = {
    "murmur3": ("murmur3(from_base64('aaaaaa'))", "not implemented by the local engine"),
    "sha512": (f"to_hex(sha512({_ABC}))", "DuckDB has no SHA-512"),
    "spooky_hash_v2_32": (f"spooky_hash_v2_32({_ABC})", "not in the local engine"),
    "spooky_hash_v2_64": (f"spooky_hash_v2_64({_ABC})", "not in the local engine"),
    "xxhash64": (f"xxhash64({_ABC})", "not in the local engine"),
    "hmac_md5": (f"hmac_md5({_ABC}, to_utf8('key'))", "not in the local engine"),
    "hmac_sha1": (f"hmac_sha1({_ABC}, to_utf8('key'))", "not in the local engine"),
    "hmac_sha256": (f"hmac_sha256({_ABC}, to_utf8('key'))", "not in the local engine"),
    "hmac_sha512": (f"hmac_sha512({_ABC}, to_utf8('key'))", "not in the local engine"),
    "zstd_compress": (f"zstd_compress({_ABC})", "added to Trino after the release Athena engine v3 is based on"),
    "zstd_decompress": (f"zstd_decompress({_ABC})", "added to Trino after the release Athena engine v3 is based on"),
}

KNOWN_DIFFERENCES: dict[str, tuple[str | None, str | None, str]] = {
    "from_ieee754_64(from_hex('0000000000000001'))":
        ('5.0E-324', 'double',
         'doubles are written from the shortest round-trip digits; Java writes 4.9E-324'),
}

"""The stream named inside a kinesalite shard iterator, for authorizing Kinesis GetRecords (whose body has only the
iterator) on its stream."""

from __future__ import annotations

import base64
import binascii
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

# A kinesalite shard iterator: base64 of 8 bytes 00..01 + AES-256-CBC("{time}/{stream}/{shard}/{seq}/{0*36}")
# with the fixed key and IV of kinesalite/db/index.js (createShardIterator; decoded in actions/getRecords.js).

_KINESALITE_KEY = bytes.fromhex("1133a5a833666b49abf28c8ba302930f0b2fb240dccd43cf4dfbc0ca91f17751")
_KINESALITE_IV = bytes.fromhex("7bf139dbabbea2d9995d6fcae1dff7da")
_KINESALITE_HEADER = bytes([0, 0, 0, 0, 0, 0, 0, 1])


@lru_cache(maxsize=4096)
def kinesalite_iterator_stream(iterator: str) -> str | None:
    """The stream name inside a kinesalite shard iterator, or None when it is not one. Every GetRecords carries a new
    iterator, so this runs once per read through the gateway: OpenSSL's AES (cryptography, which moto requires) takes
    microseconds where a pure-Python AES took ~1.2 ms."""
    if len(iterator) > 1024:  # kinesalite's are at most 280 bytes (376 characters)
        return None
    try:
        raw = base64.b64decode(iterator, validate=True)
    except (binascii.Error, ValueError):
        return None
    cipher = raw[8:]
    if raw[:8] != _KINESALITE_HEADER or not cipher or len(cipher) % 16:
        return None
    decryptor = Cipher(algorithms.AES(_KINESALITE_KEY), modes.CBC(_KINESALITE_IV)).decryptor()
    plain = decryptor.update(cipher) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
        return None
    try:
        pieces = plain[:-pad].decode("utf-8").split("/")
    except UnicodeDecodeError:
        return None
    if len(pieces) != 5 or not pieces[1] or not pieces[0].isdigit() or not pieces[2].startswith("shardId-"):
        return None
    return pieces[1]

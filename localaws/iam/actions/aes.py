"""AES-256-CBC decryption in pure Python (the standard library has no AES), for kinesalite's shard iterators."""

from __future__ import annotations


def _aes_tables() -> tuple[list[int], list[int], list[list[int]]]:
    """The AES S-box, its inverse and the InvMixColumns multiplication tables (x9, x11, x13, x14)."""
    sbox = [0] * 256
    p = q = 1
    while True:
        p = (p ^ (p << 1) ^ (0x1B if p & 0x80 else 0)) & 0xFF  # p * 3
        q ^= q << 1
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09  # q / 3
        x = q ^ ((q << 1) | (q >> 7)) ^ ((q << 2) | (q >> 6)) ^ ((q << 3) | (q >> 5)) ^ ((q << 4) | (q >> 4))
        sbox[p] = (x ^ 0x63) & 0xFF
        if p == 1:
            break
    sbox[0] = 0x63
    inverse = [0] * 256
    for i, value in enumerate(sbox):
        inverse[value] = i

    def mul(a: int, b: int) -> int:
        result = 0
        while b:
            if b & 1:
                result ^= a
            a = ((a << 1) ^ (0x1B if a & 0x80 else 0)) & 0xFF
            b >>= 1
        return result

    return sbox, inverse, [[mul(a, m) for a in range(256)] for m in (9, 11, 13, 14)]


_SBOX, _INV_SBOX, (_MUL9, _MUL11, _MUL13, _MUL14) = _aes_tables()


def _aes256_round_keys(key: bytes) -> list[list[int]]:
    words = [list(key[i:i + 4]) for i in range(0, 32, 4)]
    rcon = 1
    for i in range(8, 60):
        word = list(words[i - 1])
        if i % 8 == 0:
            word = [_SBOX[b] for b in word[1:] + word[:1]]
            word[0] ^= rcon
            rcon = ((rcon << 1) ^ (0x1B if rcon & 0x80 else 0)) & 0xFF
        elif i % 8 == 4:
            word = [_SBOX[b] for b in word]
        words.append([a ^ b for a, b in zip(words[i - 8], word, strict=True)])
    return [sum(words[r * 4:r * 4 + 4], []) for r in range(15)]


def aes256_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """``data`` decrypted (padding left in place); its length is a multiple of 16."""
    rounds = _aes256_round_keys(key)
    out = bytearray()
    previous = iv
    for offset in range(0, len(data), 16):
        block = data[offset:offset + 16]
        state = [b ^ k for b, k in zip(block, rounds[14], strict=True)]
        for r in range(13, -1, -1):
            # InvShiftRows + InvSubBytes (state is column-major: byte r + 4c)
            state = [_INV_SBOX[state[(i % 4) + 4 * (((i // 4) - (i % 4)) % 4)]] for i in range(16)]
            state = [b ^ k for b, k in zip(state, rounds[r], strict=True)]
            if r:
                mixed = []
                for c in range(4):
                    a0, a1, a2, a3 = state[4 * c:4 * c + 4]
                    mixed += [
                        _MUL14[a0] ^ _MUL11[a1] ^ _MUL13[a2] ^ _MUL9[a3],
                        _MUL9[a0] ^ _MUL14[a1] ^ _MUL11[a2] ^ _MUL13[a3],
                        _MUL13[a0] ^ _MUL9[a1] ^ _MUL14[a2] ^ _MUL11[a3],
                        _MUL11[a0] ^ _MUL13[a1] ^ _MUL9[a2] ^ _MUL14[a3],
                    ]
                state = mixed
        out += bytes(b ^ p for b, p in zip(state, previous, strict=True))
        previous = block
    return bytes(out)

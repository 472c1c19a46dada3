"""Which Statement ids a store may already hold: a Bloom filter over the ids' 64-bit hashes.

The writer checks every incoming id against it and reads the store only for the ids it may
hold, so a new id (almost every id) costs no read. A filter has 16 bits for each id of its
capacity, twice the ids it starts with; filled to capacity, about 0.5 % of new ids are false
positives by the Bloom formula (0.07 % measured at half full), each costing one lookup that
finds nothing. A filter never forgets: one that is full gets a successor twice
its size (a scalable Bloom filter), and an id may be held if any of them has it.
"""
from __future__ import annotations

import zlib
from typing import Iterable

BITS_PER_ID = 16
PROBES = 3
FIRST_CAPACITY = 1 << 16
_MASK32 = 0xFFFFFFFF


PARAMS = f"bloom/{BITS_PER_ID}/{PROBES}"  # what a saved filter must have been made with to be read back


class IdFilter:
    def __init__(self, expected: int = 0):
        self._filters = [_Bloom(max(FIRST_CAPACITY, 2 * expected))]

    def counts(self) -> list[int]:
        """How many ids each part holds: a part whose count has not changed since it was saved is unchanged."""
        return [f.count for f in self._filters]

    def parts_changed(self, saved_counts: list[int]) -> list[tuple[int, int, bytes | None]]:
        """(capacity, count, bits) of each part, bits None for a part whose count is the one in
        ``saved_counts`` (every id added changes its part's count, so that part is as it was saved)."""
        return [(f.capacity, f.count, None if i < len(saved_counts) and saved_counts[i] == f.count
                 else bytes(f.bits)) for i, f in enumerate(self._filters)]

    @classmethod
    def restore(cls, parts: list[tuple[int, int, bytes]]) -> "IdFilter":
        """The filter ``parts`` describes; ValueError if a part's size does not fit its capacity."""
        if not parts:
            raise ValueError("no parts")
        out = cls.__new__(cls)
        out._filters = []
        for capacity, count, bits in parts:
            f = _Bloom.__new__(_Bloom)
            f.capacity, f.size, f.count = capacity, capacity * BITS_PER_ID, count
            if len(bits) != (f.size + 7) >> 3 or not 0 <= count <= capacity:
                raise ValueError(f"a part of capacity {capacity} has {len(bits)} bytes and {count} ids")
            f.bits = bytearray(bits)
            out._filters.append(f)
        return out


    def __contains__(self, h: int) -> bool:
        return any(f.has(h) for f in self._filters)

    def update(self, hashes: Iterable[int]) -> None:
        newest = self._filters[-1]
        for h in hashes:
            if newest.count >= newest.capacity:
                newest = _Bloom(2 * newest.capacity)
                self._filters.append(newest)
            newest.put(h)


def checksum(bits: bytes) -> int:
    """A checksum of a saved part's bits (CRC-32: about 1 GB/s)."""
    return zlib.crc32(bits)


class _Bloom:
    """Double hashing from the two halves of the 64-bit hash (Kirsch and Mitzenmacher)."""
    __slots__ = ("bits", "size", "capacity", "count")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.size = capacity * BITS_PER_ID
        self.bits = bytearray((self.size + 7) >> 3)
        self.count = 0

    def has(self, h: int) -> bool:
        bits, size = self.bits, self.size
        a, b = h & _MASK32, ((h >> 32) & _MASK32) | 1
        for _ in range(PROBES):
            p = a % size
            if not bits[p >> 3] >> (p & 7) & 1:
                return False
            a += b
        return True

    def put(self, h: int) -> None:
        bits, size = self.bits, self.size
        a, b = h & _MASK32, ((h >> 32) & _MASK32) | 1
        for _ in range(PROBES):
            p = a % size
            bits[p >> 3] |= 1 << (p & 7)
            a += b
        self.count += 1

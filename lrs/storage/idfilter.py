"""Which Statement ids a store may already hold: a Bloom filter over the ids' 64-bit hashes.

The writer checks every incoming id against it and reads the store only for the ids it may
hold, so a new id (almost every id) costs no read. A filter has 16 bits for each id of its
capacity, twice the ids it starts with; filled to capacity, about 0.5 % of new ids are false
positives by the Bloom formula (0.07 % measured at half full), each costing one lookup that
finds nothing. A filter never forgets: one that is full gets a successor twice
its size (a scalable Bloom filter), and an id may be held if any of them has it.
"""
from __future__ import annotations

from typing import Iterable

BITS_PER_ID = 16
PROBES = 3
FIRST_CAPACITY = 1 << 16
_MASK32 = 0xFFFFFFFF


class IdFilter:
    def __init__(self, expected: int = 0):
        self._filters = [_Bloom(max(FIRST_CAPACITY, 2 * expected))]

    def __contains__(self, h: int) -> bool:
        return any(f.has(h) for f in self._filters)

    def update(self, hashes: Iterable[int]) -> None:
        newest = self._filters[-1]
        for h in hashes:
            if newest.count >= newest.capacity:
                newest = _Bloom(2 * newest.capacity)
                self._filters.append(newest)
            newest.put(h)


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

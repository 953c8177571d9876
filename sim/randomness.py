"""The randomness contract (v2, counter-based), in one place, shared by both engines.

Every uniform the model reads is a pure function of (seed, replicate, purpose, week, index):

    key  = stream_key(seed, replicate, purpose)            one 64-bit key per stream,
                                                           hashed from the three
    bits = mix64(key XOR mix64((counter + 1) * GOLDEN))    counter = week * 2^32 + index
    u    = (bits >> 11) * 2^-53                            a float64 in [0, 1)

``mix64`` is the output function of SplitMix64 (Steele, Lea & Flood 2014, "Fast splittable
pseudorandom number generators", OOPSLA; the constants are Stafford's "Mix13" variant of
MurmurHash3's 64-bit finalizer), and ``mix64((c + 1) * GOLDEN)`` is exactly the c-th output
of SplitMix64 seeded with 0.  Hashing the key into that again makes the map from (key,
counter) to bits non-linear, so no two streams overlap the way two SplitMix64 sequences
with nearby seeds would.  This is the counter-based design of Salmon et al. (2011, "Parallel
random numbers: as easy as 1, 2, 3", SC'11): no generator state, so

* a draw does not depend on which other draws were made: switching a mechanism on or off,
  or adding one with a new purpose, never changes another purpose's numbers;
* the reference engine computes a week's numbers vectorised in numpy, the batched engine
  inside its compiled passes (``mix64`` below compiles unchanged with numba); both get the
  same bits, for any split of replicates over threads, processes or machines.

Purposes are the members of :class:`sim.rules.Draw`, keyed by their value: append new
ones, never reorder.
``tests/test_randomness.py`` checks the output distribution and the independence of streams.

The org graph is built from its own seed (:func:`org_seed`), the same for every replicate
and plan of one run, so plan comparisons are paired.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable
from scipy.special import ndtri

from sim.rules import Draw

# One stream per purpose: the draws the rule layer declares (sim.rules.Draw), append-only.
PURPOSES = tuple(draw.name.lower() for draw in Draw)
TRANSITION, PAYMENT = Draw.TRANSITION, Draw.PAYMENT
ADOPTER_CATEGORY, HETEROGENEITY_NORMAL, SEEDING_KEYS = (
    Draw.ADOPTER_CATEGORY,
    Draw.HETEROGENEITY_NORMAL,
    Draw.SEEDING_KEYS,
)

GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / golden ratio, SplitMix64's increment
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S11, _S32 = np.uint64(11), np.uint64(32)
_ONE = np.uint64(1)
_TO_UNIT = 2.0**-53


@register_jitable
def mix64(z):
    """SplitMix64's output function: a bijection of 64-bit words with full avalanche.

    Takes numpy uint64 arrays (vectorised; products wrap modulo 2^64) or, compiled with
    numba, uint64 scalars: every operand is a uint64, so no step leaves 64-bit integers.
    """
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@register_jitable
def counter_hash(week, index):
    """mix64((counter + 1) * GOLDEN) for counter = week * 2^32 + index: the same for every
    stream, so a compiled pass computes it once per employee and week for all replicates."""
    return mix64((((week << _S32) | index) + _ONE) * GOLDEN)


@register_jitable
def unit_float(bits):
    """The top 53 bits as a float64 in [0, 1): exact, every value a multiple of 2^-53."""
    return (bits >> _S11) * _TO_UNIT


@register_jitable
def uniform_from_hash(key, hashed_counter):
    """u = unit_float(mix64(key ^ counter_hash)): one draw of the stream ``key``."""
    return unit_float(mix64(key ^ hashed_counter))


def stream_key(seed: int, replicate: int, purpose: int) -> np.uint64:
    """The 64-bit key of one stream: absorb seed, replicate and purpose in turn, each
    hashed as a SplitMix64 output before it is mixed in (so small integers that differ in
    a few bits give unrelated keys)."""
    with np.errstate(over="ignore"):
        key = np.zeros(1, dtype=np.uint64)
        for part in (seed, replicate, purpose):
            hashed = mix64((np.array([part], dtype=np.uint64) + _ONE) * GOLDEN)
            key = mix64(key ^ hashed)
        return np.uint64(key[0])


def stream_keys(seed: int, replicates: list[int]) -> np.ndarray:
    """Every purpose's key for several replicates: a (purposes x R) uint64 array, so a
    compiled pass reads draw d of replicate c from stream ``keys[d, c]``.  The same keys
    as :func:`stream_key`, computed for all of them at once (a sweep builds many models)."""
    parts = (
        np.full((len(Draw), len(replicates)), seed, dtype=np.uint64),
        np.broadcast_to(np.asarray(replicates, dtype=np.uint64), (len(Draw), len(replicates))),
        np.broadcast_to(
            np.array([int(draw) for draw in Draw], dtype=np.uint64)[:, None],
            (len(Draw), len(replicates)),
        ),
    )
    with np.errstate(over="ignore"):
        keys = np.zeros((len(Draw), len(replicates)), dtype=np.uint64)
        for part in parts:
            keys = mix64(keys ^ mix64((part + _ONE) * GOLDEN))
    return keys


def uniforms(seed: int, replicate: int, purpose: int, week: int, count: int) -> np.ndarray:
    """Draws 0..count-1 of one purpose in one week of one replicate, as float64 in [0, 1)."""
    key = stream_key(seed, replicate, purpose)
    index = np.arange(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return uniform_from_hash(key, counter_hash(np.uint64(week), index))


def standard_normals(seed: int, replicate: int, purpose: int, week: int, count: int):
    """Standard normal draws by inversion (z = Phi^-1(u), u in (0, 1)): one uniform each,
    so draw i depends on nothing but its own counter."""
    half_step = 2.0**-54  # centres u in its 2^-53 cell: never 0, so z is finite
    return ndtri(uniforms(seed, replicate, purpose, week, count) + half_step)


def org_seed(seed: int) -> int:
    """The integer seed the org generator receives for a run seed."""
    state = np.random.SeedSequence(seed, spawn_key=(0,)).generate_state(1, dtype=np.uint32)
    return int(state[0])


def framework_seed(seed: int, replicate: int) -> int:
    """A seed for Mesa's own generators (never used by the adoption rules)."""
    state = np.random.SeedSequence(seed, spawn_key=(2, replicate)).generate_state(1, np.uint32)
    return int(state[0])

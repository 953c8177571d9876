"""The randomness contract, in one place, shared by both engines.

* Replicate ``r`` of a run with seed ``s`` draws from its own generator, derived by
  ``SeedSequence(s, spawn_key=(1, r))``: the same for any number of replicates or workers.
* The org graph is built from ``SeedSequence(s, spawn_key=(0,))``: every replicate and
  every plan of one run sees the same organization, so plan comparisons are paired.
* Each step a replicate draws one block of uniforms: :data:`AGENT_DECISIONS` rows of N,
  then :data:`WORKSPACE_DECISIONS` rows of W, whether or not a draw is used, so the
  streams of the two engines never drift apart.
* An employee makes one random decision a week: the transitions open to its state are
  competing outcomes that partition [0, 1) (see ``sim.rules``), so one row of N suffices.
  Generators are SFC64 (fast, passes PractRand/BigCrush) seeded from the SeedSequence.
"""

from __future__ import annotations

import numpy as np

AGENT_DECISIONS = ("transition",)
WORKSPACE_DECISIONS = ("payment",)
TRANSITION = 0
PAYMENT = 0


def org_seed(seed: int) -> int:
    """The integer seed the org generator receives for a run seed."""
    state = np.random.SeedSequence(seed, spawn_key=(0,)).generate_state(1, dtype=np.uint32)
    return int(state[0])


def replicate_rng(seed: int, replicate: int) -> np.random.Generator:
    """The decision stream of one replicate."""
    return np.random.Generator(
        np.random.SFC64(np.random.SeedSequence(seed, spawn_key=(1, replicate)))
    )


def framework_seed(seed: int, replicate: int) -> int:
    """A seed for Mesa's own generators (never used by the adoption rules)."""
    state = np.random.SeedSequence(seed, spawn_key=(2, replicate)).generate_state(1, np.uint32)
    return int(state[0])


def fill_step_uniforms(
    rng: np.random.Generator, agent_out: np.ndarray, workspace_out: np.ndarray
) -> None:
    """Draw one step's block into float32 buffers of shape (agent rows, N) and (ws rows, W)."""
    rng.random(agent_out.shape, dtype=np.float32, out=agent_out)
    rng.random(workspace_out.shape, dtype=np.float32, out=workspace_out)


def fill_step_block(rng: np.random.Generator, out: np.ndarray) -> None:
    """Draw one step's block into one contiguous float32 row of length
    ``len(AGENT_DECISIONS) * N + len(WORKSPACE_DECISIONS) * W``: the same numbers, in the
    same order, as :func:`fill_step_uniforms` (a float32 fill is one sequential stream),
    in one call instead of two (the batched engine makes one per replicate and week)."""
    rng.random(out.shape, dtype=np.float32, out=out)


def step_uniforms(
    rng: np.random.Generator, n_agents: int, n_workspaces: int
) -> tuple[np.ndarray, np.ndarray]:
    """One step's block: (agent rows x N, workspace rows x W) float32 uniforms in [0, 1)."""
    agent = np.empty((len(AGENT_DECISIONS), n_agents), dtype=np.float32)
    workspace = np.empty((len(WORKSPACE_DECISIONS), n_workspaces), dtype=np.float32)
    fill_step_uniforms(rng, agent, workspace)
    return agent, workspace

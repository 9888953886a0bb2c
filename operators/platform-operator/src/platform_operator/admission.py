"""GPU memory admission: time-slicing shares compute, not memory, so budgets must fit the pool."""

from __future__ import annotations

from dataclasses import dataclass

from .models import GPUPoolSpec


@dataclass(frozen=True)
class Claim:
    """One AIService asking for GPU memory on a pool.

    `need_gb` is the budget of one replica times maxReplicas: every replica may land on the GPU.
    """

    key: str  # namespace/name
    need_gb: float
    created: str  # creationTimestamp, RFC 3339: sorts in time order
    admitted: bool  # admitted before (status condition Admitted=True)


@dataclass(frozen=True)
class Decision:
    """Whether a claim fits, with the numbers behind the answer."""

    key: str
    admitted: bool
    need_gb: float
    capacity_gb: float
    used_gb: float  # held by the claims admitted before this one

    @property
    def free_gb(self) -> float:
        return round(self.capacity_gb - self.used_gb, 3)

    def message(self, pool: str) -> str:
        verb = "fits" if self.admitted else "does not fit"
        return (f"needs {self.need_gb:g} GB; {verb} GPUPool {pool}: capacity {self.capacity_gb:g} GB "
                f"(memory minus reserve), {self.used_gb:g} GB held by other services, "
                f"{self.free_gb:g} GB free")


def need_gb(memory_gb: float, max_replicas: int) -> float:
    """GPU memory one AIService claims: its budget per replica times maxReplicas (every replica may
    land on the GPU), rounded to the MB so sums stay exact."""
    return round(memory_gb * max_replicas, 3)


def plan(pool: GPUPoolSpec, claims: list[Claim]) -> dict[str, Decision]:
    """Decide every claim on a pool.

    Claims admitted before keep their place (oldest first); waiting claims follow in creation
    order and each is admitted if it still fits (first fit). The result does not depend on the
    order of `claims`.
    """
    capacity = pool.capacity_gb
    order = sorted(claims, key=lambda c: (not c.admitted, c.created, c.key))
    used = 0.0
    out: dict[str, Decision] = {}
    for claim in order:
        fits = used + claim.need_gb <= capacity + 1e-9
        out[claim.key] = Decision(claim.key, fits, claim.need_gb, capacity, round(used, 3))
        if fits:
            used += claim.need_gb
    return out

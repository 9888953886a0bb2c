"""GPU admission under a burst on a live API server: 20 AIServices created at once on a 15 GB
pool, 2 GB each, must end with exactly 7 admitted and 13 refused; never more memory handed out
than the pool has (no double booking), InferenceServices exactly for the admitted ones."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from clusterkit import API, ISVC_API, aiservice, condition, wait_for

COUNT, NEED_GB, CAPACITY_GB = 20, 2, 15


def _snapshot(platform, ns: str) -> dict[str, str | None]:
    """name -> status of its Admitted condition (None while not decided)."""
    return {o["metadata"]["name"]: (condition(o, "Admitted") or {}).get("status")
            for o in platform.list(API, "AIService", ns)}


def test_burst_of_twenty_is_admitted_exactly_by_budget(platform, operator, gpupool, namespace):
    ns = namespace
    bodies = [aiservice(f"burst-{i:02d}", ns, gpu_gb=NEED_GB, gpu={"pool": gpupool}, route={"enabled": False})
              for i in range(COUNT)]
    with ThreadPoolExecutor(max_workers=COUNT) as pool:
        list(pool.map(platform.create, bodies))

    def settled():
        snap = _snapshot(platform, ns)
        return snap if len(snap) == COUNT and None not in snap.values() else None
    wait_for(settled, 120, every=1, what="every AIService decided")

    # stable: the same decisions and InferenceServices twice, 3 s apart
    previous = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        snap = _snapshot(platform, ns)
        isvcs = sorted(o["metadata"]["name"] for o in platform.list(ISVC_API, "InferenceService", ns))
        if (snap, isvcs) == previous:
            break
        previous = (snap, isvcs)
        time.sleep(3)
    admitted = sorted(n for n, s in snap.items() if s == "True")
    refused = sorted(n for n, s in snap.items() if s == "False")
    assert len(admitted) == CAPACITY_GB // NEED_GB, snap
    assert len(refused) == COUNT - len(admitted)
    assert isvcs == admitted
    for name in refused:
        cond = condition(platform.get(API, "AIService", name, ns), "GPUBudgetExceeded")
        assert cond["status"] == "True"
        assert cond["message"].startswith(f"needs {NEED_GB} GB; does not fit GPUPool {gpupool}: capacity "
                                          f"{CAPACITY_GB} GB (memory minus reserve), 14 GB held by other services, "
                                          "1 GB free"), cond["message"]
    assert len(admitted) * NEED_GB <= CAPACITY_GB < (len(admitted) + 1) * NEED_GB

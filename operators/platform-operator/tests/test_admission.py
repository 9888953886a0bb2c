"""GPU memory admission: budgets fit the pool's memory minus its reserve, in a stable order."""

from platform_operator.admission import Claim, need_gb, plan
from platform_operator.models import GPUPoolSpec

POOL = GPUPoolSpec.model_validate({"gpuModel": "RTX 5060 Ti", "memoryGB": 16, "reserveGB": 1})


def claim(key, need, created, admitted=False):
    return Claim(key, need, f"2026-01-01T00:00:{created:02d}Z", admitted)


def admitted(decisions):
    return sorted(k for k, d in decisions.items() if d.admitted)


def test_services_are_admitted_in_creation_order_until_full():
    claims = [claim("ns/c", 6, 3), claim("ns/a", 8, 1), claim("ns/b", 6, 2)]
    decisions = plan(POOL, claims)
    assert admitted(decisions) == ["ns/a", "ns/b"]
    refused = decisions["ns/c"]
    assert (refused.need_gb, refused.capacity_gb, refused.used_gb, refused.free_gb) == (6, 15, 14, 1)
    assert "needs 6 GB" in refused.message("rtx") and "capacity 15 GB" in refused.message("rtx")
    assert "1 GB free" in refused.message("rtx")
    assert sum(d.need_gb for d in decisions.values() if d.admitted) == 14


def test_exact_fit_is_admitted():
    assert admitted(plan(POOL, [claim("ns/a", 7.5, 1), claim("ns/b", 7.5, 2)])) == ["ns/a", "ns/b"]


def test_admitted_services_keep_their_place_over_older_waiting_ones():
    claims = [claim("ns/old-waiting", 10, 1), claim("ns/running", 10, 2, admitted=True)]
    decisions = plan(POOL, claims)
    assert admitted(decisions) == ["ns/running"]


def test_release_admits_waiting_services_in_order():
    running = [claim("ns/a", 8, 1, True), claim("ns/b", 6, 2, True)]
    waiting = [claim("ns/c", 6, 3), claim("ns/d", 2, 4)]
    assert admitted(plan(POOL, running + waiting)) == ["ns/a", "ns/b"]
    after_a_goes = [running[1]] + waiting
    assert admitted(plan(POOL, after_a_goes)) == ["ns/b", "ns/c", "ns/d"]


def test_first_fit_lets_a_small_service_past_a_large_one():
    claims = [claim("ns/a", 10, 1, True), claim("ns/big", 8, 2), claim("ns/small", 4, 3)]
    assert admitted(plan(POOL, claims)) == ["ns/a", "ns/small"]


def test_shrinking_pool_evicts_the_newest_admitted_first():
    smaller = POOL.model_copy(update={"memory_gb": 12.0})
    claims = [claim("ns/a", 6, 1, True), claim("ns/b", 6, 2, True)]
    assert admitted(plan(smaller, claims)) == ["ns/a"]


def test_plan_does_not_depend_on_input_order():
    claims = [claim("ns/a", 5, 1), claim("ns/b", 5, 1), claim("ns/c", 5, 1), claim("ns/d", 5, 1)]
    assert plan(POOL, claims) == plan(POOL, list(reversed(claims)))
    assert admitted(plan(POOL, claims)) == ["ns/a", "ns/b", "ns/c"]


def test_empty_pool_plan():
    assert plan(POOL, []) == {}


def test_need_is_rounded_to_the_megabyte_so_sums_are_exact():
    """0.1 GB x 3 replicas is 0.3 GB, not 0.30000000000000004: three of them fit a 0.9 GB pool."""
    assert need_gb(0.1, 3) == 0.3
    pool = GPUPoolSpec.model_validate({"gpuModel": "t", "memoryGB": 1.9, "reserveGB": 1.0, "replicas": 4})
    claims = [Claim(f"ns/s{i}", need_gb(0.1, 3), f"2026-01-0{i + 1}T00:00:00Z", False) for i in range(3)]
    assert all(d.admitted for d in plan(pool, claims).values())

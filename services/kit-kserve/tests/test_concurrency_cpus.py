"""CPU counts for inference threads, shared by the services."""

import os

from kit_kserve.concurrency import cpu_threads, usable_cpus


def test_usable_cpus_is_this_process_affinity():
    assert usable_cpus() == len(os.sched_getaffinity(0)) >= 1


def test_cpu_threads_is_the_setting_else_the_usable_cpus_capped():
    assert cpu_threads(3) == 3
    assert cpu_threads(0) == max(1, min(4, usable_cpus()))
    assert cpu_threads(0, most=1) == 1

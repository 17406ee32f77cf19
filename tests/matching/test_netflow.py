"""Large min-cost flow solves run in a child process: same answer, and the rest of the
process keeps running meanwhile (the solver itself holds the interpreter lock)."""

import itertools
import os
import signal
import threading
import time

import numpy as np
import pytest

from app.matching import netflow

IntArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def assignment_network(n_mentees: int, degree: int, seed: int) -> IntArrays:
    """Source → young people → volunteers (capacity 1..3) → sink, random scores."""
    rng = np.random.default_rng(seed)
    n_mentors = max(1, n_mentees // 2)
    mentee = np.repeat(np.arange(n_mentees), degree)
    mentor = rng.integers(0, n_mentors, mentee.size)
    tails = np.concatenate(
        [np.zeros(n_mentees, np.int64), 2 + mentee, 2 + n_mentees + np.arange(n_mentors)]
    )
    heads = np.concatenate(
        [2 + np.arange(n_mentees), 2 + n_mentees + mentor, np.ones(n_mentors, np.int64)]
    )
    caps = np.concatenate(
        [np.ones(n_mentees + mentee.size, np.int64), rng.integers(1, 4, n_mentors)]
    )
    costs = np.concatenate(
        [
            np.zeros(n_mentees, np.int64),
            -rng.integers(0, 1000, mentee.size),
            np.zeros(n_mentors, np.int64),
        ]
    )
    supplies = np.zeros(2 + n_mentees + n_mentors, np.int64)
    supplies[0], supplies[1] = n_mentees, -n_mentees
    return tails, heads, caps, costs, supplies


def solved(network: IntArrays, *, apart: bool, max_flow: bool) -> tuple[np.ndarray, int]:
    saved = netflow.APART_ARCS
    netflow.APART_ARCS = 0 if apart else 1 << 62
    try:
        return netflow.solve(*network, max_flow=max_flow)
    finally:
        netflow.APART_ARCS = saved


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("max_flow", [True, False])
def test_a_solve_apart_gives_the_same_flow(seed: int, max_flow: bool) -> None:
    network = assignment_network(40 + 30 * seed, 1 + seed % 4, seed)
    if not max_flow:  # every unit must reach the sink: add a bypass arc source → sink
        tails, heads, caps, costs, supplies = network
        network = (
            np.r_[tails, 0],
            np.r_[heads, 1],
            np.r_[caps, supplies[0]],
            np.r_[costs, 0],
            supplies,
        )
    here_flows, here_cost = solved(network, apart=False, max_flow=max_flow)
    apart_flows, apart_cost = solved(network, apart=True, max_flow=max_flow)
    assert apart_cost == here_cost < 0
    np.testing.assert_array_equal(apart_flows, here_flows)


def test_an_infeasible_flow_fails_apart_as_at_home() -> None:
    tails, heads, caps, costs, supplies = assignment_network(30, 2, 0)
    supplies[0], supplies[1] = 31, -31  # one unit more than the source's arcs carry
    for apart in (False, True):
        with pytest.raises(netflow.FlowFailed, match="status"):
            solved((tails, heads, caps, costs, supplies), apart=apart, max_flow=False)


def test_a_solve_process_that_dies_is_an_error_not_a_hang(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(netflow, "_solve_here", lambda *_: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(netflow.FlowFailed, match="signal 9"):
        solved(assignment_network(30, 2, 0), apart=True, max_flow=True)


def longest_pause_of_another_thread(network: IntArrays, *, apart: bool) -> float:
    """Longest interval between two ticks of a thread ticking every 5 ms during the
    solve: about the solve's duration when the solve holds the interpreter lock."""
    ticks: list[float] = []
    done = threading.Event()

    def tick() -> None:
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    ticker = threading.Thread(target=tick)
    ticker.start()
    time.sleep(0.05)
    started = time.perf_counter()
    solved(network, apart=apart, max_flow=True)
    ended = time.perf_counter()
    done.set()
    ticker.join()
    during = [started, *(t for t in ticks if started <= t <= ended), ended]
    return max(b - a for a, b in itertools.pairwise(during))


def test_other_threads_keep_running_during_a_solve_apart() -> None:
    network = assignment_network(30_000, 8, 1)
    held = longest_pause_of_another_thread(network, apart=False)
    free = longest_pause_of_another_thread(network, apart=True)
    assert held > 0.1  # the network is large enough for the lock to be seen held
    assert free < held / 2

"""Min-cost flow solves that leave the interpreter free for the rest of the process.

OR-Tools' ``SimpleMinCostFlow`` keeps the interpreter lock for the whole of a solve (its
binding releases nothing): nationally one solve of 2 million arcs holds it for about
20 s, and a run makes hundreds of solves of up to half a million arcs (2–3 s each).
Meanwhile no other thread of the process runs: not the queue worker's heartbeat (the
queue then takes the worker for dead and fails its run), not the run's heartbeat, not
the thread that notices a cancel. Large solves therefore run in a forked child process:
it shares the parent's memory copy-on-write (nothing is serialised on the way in) and
sends back only the flow of each arc, while the parent waits in a blocking read that
releases the lock. Small solves stay in the process: a fork costs more than they do.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import struct
from collections.abc import Callable

import numpy as np
from ortools.graph.python import min_cost_flow

from app.matching.arrays import IntArray

APART_ARCS = 150_000
"""Solves with at least this many arcs run in a child process (where ``fork`` exists)."""

Answer = tuple[int, IntArray, int]
"""The solver's status, each arc's flow (empty unless optimal), the flow's cost."""

_HEADER = struct.Struct("<qqq")  # status, optimal cost, number of arcs
_PR_SET_PDEATHSIG = 1


class FlowFailed(RuntimeError):
    """The min-cost flow solver ended without an optimal flow."""


def solve(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    supplies: IntArray,
    *,
    max_flow: bool,
) -> tuple[IntArray, int]:
    """Flow of every arc (in the order given) and the flow's cost, for node ``i``'s
    supply ``supplies[i]``. ``max_flow``: push as much of the supply as the arcs allow
    (``solve_max_flow_with_min_cost``) instead of requiring all of it."""

    def here() -> Answer:
        return _solve_here(tails, heads, caps, costs, supplies, max_flow)

    status, flows, cost = (
        _in_child(here) if tails.size >= APART_ARCS and hasattr(os, "fork") else here()
    )
    if status != int(min_cost_flow.SimpleMinCostFlow.OPTIMAL):
        raise FlowFailed(f"min-cost flow failed with status {status}")
    return flows, cost


def _solve_here(
    tails: IntArray,
    heads: IntArray,
    caps: IntArray,
    costs: IntArray,
    supplies: IntArray,
    max_flow: bool,
) -> Answer:
    smcf = min_cost_flow.SimpleMinCostFlow()
    ids = np.asarray(smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs))
    smcf.set_nodes_supplies(np.arange(supplies.size), supplies)
    status = smcf.solve_max_flow_with_min_cost() if max_flow else smcf.solve()
    if status != smcf.OPTIMAL:
        return int(status), np.zeros(0, dtype=np.int64), 0
    flows = np.asarray(smcf.flows(ids), dtype=np.int64)
    return int(smcf.OPTIMAL), flows, int(smcf.optimal_cost())


def _in_child(solve_here: Callable[[], Answer]) -> Answer:
    """``solve_here()`` run in a forked child; its answer comes back through a pipe."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: solve, write the answer, leave without any clean-up
        code = 1
        try:
            os.close(read_end)
            _die_with_parent()
            status, flows, cost = solve_here()
            with os.fdopen(write_end, "wb") as out:
                out.write(_HEADER.pack(status, cost, flows.size))
                out.write(flows.tobytes())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as answer:
            data = answer.read()  # blocking I/O: the interpreter lock is released
    finally:
        _, wait_status = os.waitpid(pid, 0)
    if len(data) < _HEADER.size:
        ended = _ended(wait_status)
        raise FlowFailed(f"the min-cost flow process ended without an answer ({ended})")
    status, cost, n_arcs = _HEADER.unpack_from(data)
    flows = np.frombuffer(data, dtype=np.int64, count=n_arcs, offset=_HEADER.size).copy()
    return status, flows, cost


def _die_with_parent() -> None:
    """A worker killed outright takes its solve with it (Linux; elsewhere the child ends
    at its solve's end, its answer unread)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _ended(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        return f"killed by signal {os.WTERMSIG(wait_status)}, perhaps out of memory"
    return f"exit status {os.waitstatus_to_exitcode(wait_status)}"

"""Complementary suppression against an independent check: for every withheld cell, the
smallest and largest values it can take given everything published (linear programme over
the additive relations, withheld cells at least 1) must differ."""

import random

import numpy as np
import pytest
from scipy.optimize import linprog

from app.indicators.suppression import SMALL_COUNT, Line, withheld_cells


def small_value(rng: random.Random) -> int:
    return rng.choice([0, 0, 1, 1, 2, 3, 4, 5, 6, 9, 15, 40])


def hierarchy(rng: random.Random) -> tuple[dict[str, int], list[Line[str]]]:
    """nation → regions → departments → communes, and nation → organisations → programmes."""
    values: dict[str, int] = {}
    lines: list[Line[str]] = []
    regions = []
    for r in range(rng.randint(1, 3)):
        departments = []
        for d in range(rng.randint(1, 3)):
            communes = [f"c{r}.{d}.{c}" for c in range(rng.randint(1, 4))]
            for commune in communes:
                values[commune] = small_value(rng)
            department = f"d{r}.{d}"
            values[department] = sum(values[c] for c in communes)
            lines.append(Line(department, tuple(communes)))
            departments.append(department)
        region = f"r{r}"
        values[region] = sum(values[d] for d in departments)
        lines.append(Line(region, tuple(departments)))
        regions.append(region)
    values["nation"] = sum(values[r] for r in regions)
    lines.append(Line("nation", tuple(regions)))
    # The same nation split another way: organisations and their programmes.
    remaining = values["nation"]
    organisations = []
    for o in range(rng.randint(1, 3)):
        programmes = []
        for p in range(rng.randint(1, 3)):
            key = f"p{o}.{p}"
            values[key] = rng.randint(0, min(remaining, 12))
            remaining -= values[key]
            programmes.append(key)
        values[f"o{o}"] = sum(values[p] for p in programmes)
        lines.append(Line(f"o{o}", tuple(programmes)))
        organisations.append(f"o{o}")
    values[organisations[-1]] += remaining
    values[programmes[-1]] += remaining
    lines.append(Line("nation", tuple(organisations)))
    return values, lines


def ranges(values: dict[str, int], lines: list[Line[str]], hidden: set[str]):
    """(min, max) of each withheld cell over every table consistent with what is published."""
    unknown = sorted(hidden)
    index = {key: i for i, key in enumerate(unknown)}
    rows, rhs = [], []
    for line in lines:
        row = np.zeros(len(unknown))
        constant = 0.0
        for key, sign in [(line.total, 1.0), *((part, -1.0) for part in line.parts)]:
            if key in index:
                row[index[key]] += sign
            else:
                constant -= sign * values[key]
        rows.append(row)
        rhs.append(constant)
    result = {}
    for key in unknown:
        cost = np.zeros(len(unknown))
        cost[index[key]] = 1.0
        low, high = (
            linprog(sign * cost, A_eq=np.array(rows), b_eq=np.array(rhs), bounds=(1, None))
            for sign in (1.0, -1.0)
        )
        assert low.status == 0  # the true table is feasible
        result[key] = (low.fun, -high.fun if high.status == 0 else float("inf"))
    return result


@pytest.mark.parametrize("seed", range(120))
def test_no_withheld_cell_is_recoverable_from_published_totals(seed: int) -> None:
    rng = random.Random(seed)
    values, lines = hierarchy(rng)
    hidden = withheld_cells(values, lines)
    assert {k for k, v in values.items() if 0 < v < SMALL_COUNT} <= hidden
    assert all(values[key] > 0 for key in hidden)
    for key, (low, high) in ranges(values, lines, hidden).items():
        assert high - low >= 1 - 1e-6, (key, values[key], low, high)


def test_a_lone_small_cell_takes_a_complement() -> None:
    values = {"total": 30, "a": 3, "b": 12, "c": 15}
    hidden = withheld_cells(values, [Line("total", ("a", "b", "c"))])
    assert hidden == {"a", "b"}  # the smallest other part, not the larger one


def test_cells_of_one_are_not_left_to_add_up_to_their_count() -> None:
    # Five withheld ones under a published total of 25: each would be read as 1.
    values = {"t": 25, **{f"x{i}": 1 for i in range(5)}, "y": 20}
    hidden = withheld_cells(values, [Line("t", (*(f"x{i}" for i in range(5)), "y"))])
    assert "y" in hidden


def test_a_small_total_is_withheld_and_its_parts_with_it() -> None:
    values = {"t": 3, "a": 3, "b": 0}
    assert withheld_cells(values, [Line("t", ("a", "b"))]) == {"t", "a"}


def test_zero_is_published() -> None:
    assert withheld_cells({"t": 0, "a": 0}, [Line("t", ("a",))]) == set()

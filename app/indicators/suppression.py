"""Small counts withheld, and the complementary suppression that keeps them withheld.

One module for every published table (indicators, territories): a count from 1 to
``SMALL_COUNT - 1`` is withheld for every role but admin (*primary* suppression), and
further cells are withheld (*complementary* suppression) so that no withheld cell can be
recovered by subtraction from the totals that are published.

A table is a set of cells and of additive *lines*: ``total = sum(parts)`` (a department
is the sum of its communes, the nation the sum of its departments, the closed matches
the sum of the closure reasons). The rules, applied until nothing changes:

1. a line never has exactly one withheld cell (else it is its total minus the others);
2. where a line's total is published, its withheld parts add up to at least
   ``SMALL_COUNT`` and to more than their number (so neither the group nor each of its
   cells, every one at least 1, is a small count that can be read off).

Complements are the smallest positive published parts (never a zero: a zero discloses
nobody, and withholding it would not protect), the total only when no part is left.

For tables whose lines form a tree (each cell the part of at most one line and the total
of at most one other: a geographic hierarchy, organisations and their programmes), rule 1
alone already guarantees that no withheld cell is determined by the published ones: a
combination of lines isolating one cell would need a sub-tree of lines with a single
withheld cell on its border, but every leaf of that sub-tree has two.
"""

from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

SMALL_COUNT = 5

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Line(Generic[K]):
    """An additive relation between published cells: ``total = sum(parts)``."""

    total: K
    parts: tuple[K, ...]


def is_small(count: int, threshold: int = SMALL_COUNT) -> bool:
    return 0 < count < threshold


def withheld_cells(
    values: Mapping[K, int],
    lines: Iterable[Line[K]],
    *,
    threshold: int = SMALL_COUNT,
    forced: Collection[K] = (),
) -> set[K]:
    """The cells of ``values`` to withhold: primary (small counts, and ``forced``) and
    complementary. Cells of a line missing from ``values`` count as published zeros."""
    lines = [line for line in lines if line.parts]
    hidden = {key for key, count in values.items() if is_small(count, threshold)}
    hidden.update(key for key in forced if values.get(key, 0) > 0)
    changed = True
    while changed:
        changed = False
        for line in lines:
            if _protect(line, values, hidden, threshold):
                changed = True
    return hidden


def _protect(line: Line[K], values: Mapping[K, int], hidden: set[K], threshold: int) -> bool:
    """Withhold one more cell of ``line`` if it breaks a rule; ``True`` if it did."""
    hidden_parts = [part for part in line.parts if part in hidden]
    total_hidden = line.total in hidden
    if not hidden_parts and not total_hidden:
        return False
    if not total_hidden:
        hidden_sum = sum(values.get(part, 0) for part in hidden_parts)
        broken = len(hidden_parts) == 1 or hidden_sum < threshold or hidden_sum <= len(hidden_parts)
    else:
        broken = not hidden_parts
    if not broken:
        return False
    candidates = [part for part in line.parts if part not in hidden and values.get(part, 0) > 0]
    if candidates:
        hidden.add(min(candidates, key=lambda part: (values.get(part, 0), str(part))))
        return True
    if not total_hidden and values.get(line.total, 0) > 0:
        hidden.add(line.total)
        return True
    return False


def published(value: int, key: K, hidden: Collection[K]) -> int | None:
    """``value``, or ``None`` when ``key`` is withheld."""
    return None if key in hidden else value

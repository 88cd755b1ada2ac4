"""Small-cell suppression: no figure built on fewer than 5 citizens is shown, not even by subtraction.

A table is a set of cells, each with the set of citizens behind it, and a set of *sums*: a parent cell
whose citizens are covered by its child cells (a team's cells add up to their unit's, a unit's to the
municipality's, the strata of a cell add up to the cell). The rule, after Danmarks Statistik's practice:

1. Primary suppression: a cell with 1–4 citizens is suppressed, and so is a cell the caller marks as
   revealing (e.g. one whose difference to the same cell without a filter is 1–4 citizens).
2. Complementary suppression, for every sum until nothing changes:
   - of the parent and its non-empty children, never exactly one may be hidden (one hidden cell of a sum
     is the difference of the visible ones): hide the smallest visible child as well, or the parent when
     there is no visible child left;
   - when the parent is shown, the hidden children together must hold 5 citizens or more (their total is
     the difference too): hide the next smallest visible child, or the parent.

Empty cells (0 citizens) are shown: they reveal nothing about a person.
"""

from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass

MINIMUM_CITIZENS = 5


def is_small(citizen_count: int) -> bool:
    """1–4 citizens: too few to show."""
    return 0 < citizen_count < MINIMUM_CITIZENS


@dataclass(frozen=True)
class Sum[Key: Hashable]:
    """A parent cell whose citizens are covered by its children."""

    parent: Key
    children: tuple[Key, ...]


def suppressed_cells[Key: Hashable](
    citizens: Mapping[Key, Collection], sums: Iterable[Sum[Key]], *, revealing: Iterable[Key] = ()
) -> set[Key]:
    """The cells to hide, given each cell's citizens, the sums that tie cells together and the cells
    hidden for another reason than their own size.

    The sums are gone through in their order, again and again until a pass hides nothing more. A sum found
    with nothing to hide is passed over until one of its own cells is hidden: what it would do depends on
    nothing else, so passing it over hides exactly the cells that looking at it again would (it keeps a
    table of a year with its quarters and months, for every team, from taking one pass over every sum for
    every cell hidden)."""
    hidden = {cell for cell, people in citizens.items() if is_small(len(people))}
    hidden.update(cell for cell in revealing if citizens.get(cell))
    sums = list(sums)
    holding: dict[Key, list[int]] = defaultdict(list)  # the sums each cell is the parent or a child of
    for index, total in enumerate(sums):
        holding[total.parent].append(index)
        for child in total.children:
            holding[child].append(index)
    names: dict[Key, str] = {}  # the order among cells of the same size
    settled = [False] * len(sums)
    changed = True
    while changed:
        changed = False
        for index, total in enumerate(sums):
            if settled[index]:
                continue
            added = _protect(total, citizens, hidden, names)
            if added is None:
                settled[index] = True
                continue
            changed = True
            for other in holding[added]:
                settled[other] = False
    return hidden


def _protect[Key: Hashable](
    total: Sum[Key], citizens: Mapping[Key, Collection], hidden: set[Key], names: dict[Key, str]
) -> Key | None:
    """Hide one more cell of the sum if its hidden cells can be worked out; the cell it hid, if any."""
    children = [child for child in total.children if citizens.get(child)]
    hidden_children = [child for child in children if child in hidden]
    parent_hidden = total.parent in hidden
    unknowns = len(hidden_children) + (1 if parent_hidden else 0)
    if not children or unknowns == 0:
        return None
    behind_hidden: frozenset = frozenset().union(*(citizens[child] for child in hidden_children))
    exposed = unknowns == 1 or (not parent_hidden and is_small(len(behind_hidden)))
    if not exposed:
        return None
    visible_children = [child for child in children if child not in hidden]
    if visible_children:
        for child in visible_children:
            if child not in names:
                names[child] = str(child)
        smallest = min(visible_children, key=lambda child: (len(citizens[child]), names[child]))
        hidden.add(smallest)
        return smallest
    if not parent_hidden:
        hidden.add(total.parent)
        return total.parent
    return None

"""Creates keyed by an id the client made (a phone's UUID for a session, a rating, a request, an answer).

The one rule every such create follows, whether the copies come one after another or at the same moment
(a phone that timed out and resent while its first request still ran, two phones uploading one queue):

- the first request with the id creates the object (201);
- a request with the same id and the same content gets the object as stored (200) and changes nothing;
- the same id with other content, or from someone else, is 422 ``id_reused``, the same answer either way,
  so that it never tells whose the id is;
- a conflict with *another* object (a slot filled by a session with another id) keeps its own code.

Two copies at once: the database decides. The loser's insert (or its lock on the row both want, such as
the slot) waits until the winner's transaction ends (PostgreSQL's unique index and row locks; SQLite
serialises writing transactions, see ``transaction_mode`` in the settings). If the winner committed, the
loser's conflict is looked at again: when it is the client's own id, now stored, it answers as a retry;
otherwise the conflict stands. If the winner rolled back, the loser creates the object itself.
"""

from collections.abc import Callable

from django.db import IntegrityError, transaction

from backend.errors import Conflict, InvalidInput


class ClientIdReused(InvalidInput):
    def __init__(self, field: str = "id", what: str = "object") -> None:
        super().__init__(field, f"is already used for another {what}.", code="id_reused")


def create_once[T](
    *,
    find: Callable[[], T | None],
    is_same: Callable[[T], bool],
    create: Callable[[], T],
    field: str = "id",
    what: str = "object",
) -> tuple[T, bool]:
    """``create()`` once per client id; returns the object and whether it was made now.

    ``find`` reads the object stored under the client's id, whoever's it is (by primary key, nothing else);
    ``is_same`` says whether a stored one is what this request asks for (same owner, same content);
    ``create`` validates and writes, raising a domain error or the database's ``IntegrityError``. It runs
    in a savepoint, so a create that lost the race leaves nothing behind before the stored one is read.
    """
    existing = find()
    if existing is None:
        try:
            with transaction.atomic():
                return create(), True
        except (IntegrityError, Conflict):
            # The twin of this request may have got there first; then this is its retry.
            existing = find()
            if existing is None:
                raise
    if not is_same(existing):
        raise ClientIdReused(field, what)
    return existing, False

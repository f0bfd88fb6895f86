"""Results of bulk calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar, Union, overload

from .errors import BulkError
from .v1 import events_pb2, kindred_pb2

if TYPE_CHECKING:
    import pandas

__all__ = ["BulkResult", "UpsertResults", "EventResults", "BulkItem"]

BulkItem = Union[kindred_pb2.BulkItemResult, events_pb2.BulkEventResult]
ItemT = TypeVar("ItemT", kindred_pb2.BulkItemResult, events_pb2.BulkEventResult)


@dataclass
class BulkResult(Generic[ItemT]):
    """The outcome of every item of a bulk call, in input order.

    ``items[i]`` is the server's result message for the i-th input item
    (``BulkItemResult`` for records, ``BulkEventResult`` for events), with
    ``index`` set to ``i``: its ``ok`` field holds the result, or its
    ``error`` field the rejection (``code``, ``field``, ``value``,
    ``message``). Items the client could not turn into messages are
    rejected the same way (code ``INVALID_ARGUMENT``) without being sent.
    """

    items: list[ItemT] = field(default_factory=list)
    #: The input's labels (a DataFrame's index), used by ``to_dataframe``.
    labels: list[Any] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self.items)} items, {self.error_count} rejected)"

    def __iter__(self) -> Iterator[ItemT]:
        return iter(self.items)

    @overload
    def __getitem__(self, i: int) -> ItemT: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[ItemT]: ...
    def __getitem__(self, i: int | slice) -> ItemT | Sequence[ItemT]:
        return self.items[i]

    @property
    def errors(self) -> list[ItemT]:
        """The rejected items."""
        return [it for it in self.items if it.WhichOneof("outcome") == "error"]

    @property
    def ok_count(self) -> int:
        """How many items were stored."""
        return sum(1 for it in self.items if it.WhichOneof("outcome") == "ok")

    @property
    def error_count(self) -> int:
        return len(self.items) - self.ok_count

    def raise_for_errors(self) -> BulkResult[ItemT]:
        """Raises :class:`~kindred_client.BulkError` if any item was rejected;
        returns the result otherwise."""
        if self.error_count:
            raise BulkError(self)
        return self


class UpsertResults(BulkResult[kindred_pb2.BulkItemResult]):
    """The outcome of a bulk upsert: one ``BulkItemResult`` per input record."""

    def actions(self) -> Counter[str]:
        """Counts of ``created``, ``joined``, ``merged`` and ``rejected``."""
        counts: Counter[str] = Counter()
        for it in self.items:
            if it.WhichOneof("outcome") == "ok":
                name = kindred_pb2.Action.Name(it.ok.action)
                counts[name.removeprefix("ACTION_").lower()] += 1
            else:
                counts["rejected"] += 1
        return counts

    def entity_ids(self) -> list[int | None]:
        """The entity each input record joined when it was written, in input
        order (None if rejected). A later record may have merged it into
        another (see ``ResolveResult.absorbed``); ``export_assignments()``
        gives every record's entity now."""
        return [it.ok.entity_id if it.WhichOneof("outcome") == "ok" else None for it in self.items]

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per input record: ``index``, ``source``, ``record_id``,
        ``entity_id`` (when written; see :meth:`entity_ids`), ``action``,
        ``replaced``, ``issues`` (values kept raw), ``error_code``,
        ``error_field``, ``error`` (needs pandas). A DataFrame input's index
        is kept."""
        from .dataframes import upsert_results_to_dataframe

        return upsert_results_to_dataframe(self.items, self.labels)


class EventResults(BulkResult[events_pb2.BulkEventResult]):
    """The outcome of a bulk event send: one ``BulkEventResult`` per input event."""

    def duplicates(self) -> int:
        """Events that had been stored before (nothing changed)."""
        return sum(1 for it in self.items if it.WhichOneof("outcome") == "ok" and it.ok.duplicate)

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per input event: ``index``, ``source``, ``record_id``,
        ``event_id``, ``entity_id``, ``duplicate``, ``error_code``,
        ``error_field``, ``error`` (needs pandas)."""
        from .dataframes import event_results_to_dataframe

        return event_results_to_dataframe(self.items, self.labels)

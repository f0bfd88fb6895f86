"""pandas conversions (``pip install 'kindred-client[pandas]'``).

* :func:`assignments_to_dataframe`: ``source``, ``record_id``, ``entity_id``.
* :func:`profiles_to_dataframe`: one row per customer (:func:`profile_row`).
* :func:`upsert_results_to_dataframe`, :func:`event_results_to_dataframe`:
  one row per input item of a bulk call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .errors import status_code
from .v1 import events_pb2, kindred_pb2

if TYPE_CHECKING:
    import pandas

__all__ = [
    "assignments_to_dataframe",
    "profiles_to_dataframe",
    "profile_row",
    "upsert_results_to_dataframe",
    "event_results_to_dataframe",
]

GOLDEN_FIELDS = ("given_name", "middle_name", "family_name", "date_of_birth", "gender", "email", "phone", "address")


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise ImportError("this needs pandas: pip install pandas (or the client's [pandas] extra)") from None
    return pandas


def assignments_to_dataframe(assignments: Iterable[kindred_pb2.Assignment]) -> pandas.DataFrame:
    """Columns ``source``, ``record_id`` (text) and ``entity_id`` (int64)."""
    pd = _pandas()
    sources: list[str] = []
    ids: list[str] = []
    entities: list[int] = []
    for a in assignments:
        sources.append(a.record.source)
        ids.append(a.record.record_id)
        entities.append(a.entity_id)
    return pd.DataFrame(
        {
            "source": pd.Series(sources, dtype=object),
            "record_id": pd.Series(ids, dtype=object),
            "entity_id": pd.Series(entities, dtype="uint64"),
        }
    )


def profile_row(profile: kindred_pb2.Profile) -> dict[str, Any]:
    """A flat dict of one profile:

    ``entity_id``; the golden record's values (``given_name``,
    ``middle_name``, ``family_name``, ``date_of_birth``, ``gender``,
    ``email``, ``phone``, ``address``, and ``identifiers.KIND``; None when
    absent); ``records`` (how many), ``sources`` (sorted, distinct),
    ``record_refs`` (``source:record_id`` strings), ``merged_ids``,
    ``possible_matches`` (how many); ``lifecycle_stage``, ``rfm_group``;
    ``traits.NAME`` (numbers, text or epoch milliseconds); ``attributes.NAME``.
    """
    g = profile.golden
    row: dict[str, Any] = {"entity_id": profile.entity_id}
    for f in GOLDEN_FIELDS:
        row[f] = getattr(g, f).value if g.HasField(f) else None
    for kind in sorted(g.identifiers):
        row[f"identifiers.{kind}"] = g.identifiers[kind].value
    row["records"] = len(profile.records)
    row["sources"] = sorted({r.source for r in profile.records})
    row["record_refs"] = [f"{r.source}:{r.record_id}" for r in profile.records]
    row["merged_ids"] = list(profile.merged_ids)
    row["possible_matches"] = len(profile.possible_matches)
    row["lifecycle_stage"] = profile.lifecycle.stage if profile.HasField("lifecycle") else None
    row["rfm_group"] = profile.rfm.group if profile.HasField("rfm") and profile.rfm.group else None
    for t in profile.traits:
        which = t.WhichOneof("value")
        row[f"traits.{t.name}"] = getattr(t, which) if which else None
    for k in sorted(profile.attributes):
        row[f"attributes.{k}"] = profile.attributes[k]
    return row


def profiles_to_dataframe(profiles: Iterable[kindred_pb2.Profile]) -> pandas.DataFrame:
    """One row per customer (see :func:`profile_row`), ``entity_id`` first;
    identifier, trait and attribute columns are the union over all
    profiles (None where a profile has none)."""
    pd = _pandas()
    rows = [profile_row(p) for p in profiles]
    base = ["entity_id", *GOLDEN_FIELDS]
    tail = ["records", "sources", "record_refs", "merged_ids", "possible_matches", "lifecycle_stage", "rfm_group"]
    extra = sorted({k for r in rows for k in r} - set(base) - set(tail))
    columns = (
        base
        + [c for c in extra if c.startswith("identifiers.")]
        + tail
        + [c for c in extra if not c.startswith("identifiers.")]
    )
    df = pd.DataFrame.from_records(rows, columns=columns)
    if not rows:
        df["entity_id"] = df["entity_id"].astype("uint64")
    return df


def _outcomes(items: Sequence[Any], labels: Sequence[Any] | None, ok_columns: Any, events: bool) -> pandas.DataFrame:
    pd = _pandas()
    rows = []
    for it in items:
        kind = it.WhichOneof("outcome")
        row: dict[str, Any] = {"index": it.index}
        if kind == "ok":
            row.update(ok_columns(it.ok))
            row.update(error_code=None, error_field=None, error=None)
        else:
            e = it.error
            row.update(source=e.record.source, record_id=e.record.record_id)
            if events:
                row["event_id"] = e.event_id
            row.update(error_code=status_code(e.code).name, error_field=e.field or None, error=e.message)
        rows.append(row)
    df = pd.DataFrame.from_records(rows)
    if labels is not None and len(labels) == len(df):
        df.index = pd.Index(labels)
    return df


def upsert_results_to_dataframe(
    items: Sequence[kindred_pb2.BulkItemResult], labels: Sequence[Any] | None = None
) -> pandas.DataFrame:
    """One row per input record: ``index`` (input position), ``source``,
    ``record_id``, ``entity_id``, ``action`` (created, joined, merged),
    ``replaced``, ``issues`` (``field: reason`` of values kept raw),
    ``error_code``, ``error_field``, ``error``. With ``labels`` (a
    DataFrame's index) the rows carry them as their index."""

    def ok(r: kindred_pb2.ResolveResult) -> dict[str, Any]:
        return {
            "source": r.record.source,
            "record_id": r.record.record_id,
            "entity_id": r.entity_id,
            "action": kindred_pb2.Action.Name(r.action).removeprefix("ACTION_").lower(),
            "replaced": r.replaced,
            "issues": [f"{i.field}: {i.reason}" for i in r.issues],
        }

    df = _outcomes(items, labels, ok, events=False)
    columns = [
        "index",
        "source",
        "record_id",
        "entity_id",
        "action",
        "replaced",
        "issues",
        "error_code",
        "error_field",
        "error",
    ]
    df = df.reindex(columns=columns)
    df["entity_id"] = df["entity_id"].astype("UInt64")
    return df


def event_results_to_dataframe(
    items: Sequence[events_pb2.BulkEventResult], labels: Sequence[Any] | None = None
) -> pandas.DataFrame:
    """One row per input event: ``index``, ``source``, ``record_id``,
    ``event_id``, ``entity_id``, ``duplicate``, ``record_written``,
    ``error_code``, ``error_field``, ``error``."""

    def ok(r: events_pb2.EventResult) -> dict[str, Any]:
        return {
            "source": r.record.source,
            "record_id": r.record.record_id,
            "event_id": r.event_id,
            "entity_id": r.entity_id,
            "duplicate": r.duplicate,
            "record_written": r.record_written,
        }

    df = _outcomes(items, labels, ok, events=True)
    columns = [
        "index",
        "source",
        "record_id",
        "event_id",
        "entity_id",
        "duplicate",
        "record_written",
        "error_code",
        "error_field",
        "error",
    ]
    df = df.reindex(columns=columns)
    df["entity_id"] = df["entity_id"].astype("UInt64")
    return df

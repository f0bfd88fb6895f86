"""Python client of Kindred, the real-time customer resolution cluster.

    >>> from kindred_client import KindredClient
    >>> with KindredClient("127.0.0.1:7000") as kindred:
    ...     kindred.upsert({"source": "crm", "record_id": "C-1", "given_name": "Jane",
    ...                     "family_name": "Doe", "email": "jane@example.com"})
    ...     kindred.profile(email="jane@example.com").golden.family_name.value

Calls return the ``kindred.v1`` protobuf messages (typed: each generated
module ships a ``.pyi``); the generated modules themselves are
:mod:`kindred_client.v1`. Failures raise :class:`KindredError` subclasses
named after their gRPC status (:class:`NotFound`, :class:`InvalidArgument`
with the ``field`` the node names, :class:`Unavailable`, ...).
"""

from ._version import __version__
from .client import DEFAULT_TIMEOUT, KindredClient
from .errors import (
    Aborted,
    AlreadyExists,
    BulkError,
    Cancelled,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    KindredError,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from .export import ExportStream
from .records import RecordLike, RecordRefLike, to_event, to_record, to_record_ref
from .results import BulkResult, EventResults, UpsertResults
from .retry import NO_RETRY, RetryPolicy
from .v1.activity_pb2 import Event, Lifecycle, PropertyValue, Rfm, TraitValue
from .v1.kindred_pb2 import (
    Action,
    Assignment,
    BulkItemResult,
    Decision,
    EntityExplanation,
    EntityHistory,
    GoldenRecord,
    GoldenValue,
    PairExplanation,
    Profile,
    RecordError,
    RecordRef,
    ResolveResult,
    SearchCandidate,
)
from .v1.record_pb2 import Identifier, PersonName, PostalAddress, Record
from .watch import WatchStream

__all__ = [
    "__version__",
    # client
    "KindredClient",
    "DEFAULT_TIMEOUT",
    "RetryPolicy",
    "NO_RETRY",
    "ExportStream",
    "WatchStream",
    "BulkResult",
    "UpsertResults",
    "EventResults",
    # input helpers
    "RecordLike",
    "RecordRefLike",
    "to_record",
    "to_record_ref",
    "to_event",
    # errors
    "KindredError",
    "InvalidArgument",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "Unauthenticated",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unavailable",
    "DeadlineExceeded",
    "Cancelled",
    "Unknown",
    "Unimplemented",
    "Internal",
    "DataLoss",
    "BulkError",
    # messages
    "Record",
    "PersonName",
    "PostalAddress",
    "Identifier",
    "RecordRef",
    "ResolveResult",
    "Action",
    "BulkItemResult",
    "RecordError",
    "Profile",
    "GoldenRecord",
    "GoldenValue",
    "SearchCandidate",
    "Assignment",
    "PairExplanation",
    "EntityExplanation",
    "EntityHistory",
    "Decision",
    "Event",
    "PropertyValue",
    "TraitValue",
    "Lifecycle",
    "Rfm",
]

"""The exceptions of the Kindred client.

Every failure of a call is a :class:`KindredError`. Failures the server (or
the transport) reports with a gRPC status become the subclass named after
the status code, so callers catch what they can handle::

    try:
        profile = kindred.profile(email="jane@example.com")
    except kindred_client.NotFound:
        profile = None

``InvalidArgument`` carries the field the server names (``field``,
``value``, ``reason``). It is also a :class:`ValueError`, ``NotFound`` a
:class:`LookupError` and ``DeadlineExceeded`` a :class:`TimeoutError`, so
code that knows nothing of Kindred still catches them sensibly.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

import grpc

if TYPE_CHECKING:
    from .results import BulkResult

__all__ = [
    "KindredError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
    "BulkError",
    "error_for_code",
    "from_rpc_error",
]


class KindredError(Exception):
    """A call to Kindred failed.

    Attributes:
        code: the gRPC status code (``None`` for errors raised before any
            call, such as :class:`BulkError`).
        details: the server's (or the transport's) message.
        endpoint: the endpoint that gave the final answer, if any.
        attempts: how many attempts the call made (retries and failovers
            included).
        request_id: the call's request id (``x-request-id``): the client
            sends one with every attempt of a call, and the node logs its
            work under it, so it finds the call in the nodes' logs.
        bulk_result: for a bulk call that gave up, the results settled
            before it did (every item in it was stored or rejected).
    """

    code: grpc.StatusCode | None
    request_id: str | None = None
    bulk_result: BulkResult[Any] | None = None
    default_code: ClassVar[grpc.StatusCode | None] = None

    def __init__(
        self,
        details: str,
        *,
        code: grpc.StatusCode | None = None,
        endpoint: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(details)
        self.details = details
        self.code = code if code is not None else self.default_code
        self.endpoint = endpoint
        self.attempts = attempts

    def __str__(self) -> str:
        text = self.details
        if self.code is not None:
            text = f"{self.code.name}: {text}"
        where = []
        if self.endpoint:
            where.append(self.endpoint)
        if self.attempts > 1:
            where.append(f"after {self.attempts} attempts")
        if self.request_id:
            where.append(f"request {self.request_id}")
        if where:
            text = f"{text} ({', '.join(where)})"
        return text


class Cancelled(KindredError):
    """The call was cancelled (usually by the caller)."""

    default_code = grpc.StatusCode.CANCELLED


class Unknown(KindredError):
    """The server or the transport failed without a more precise code."""

    default_code = grpc.StatusCode.UNKNOWN


class InvalidArgument(KindredError, ValueError):
    """The input is invalid; the server names the field and value.

    The field comes from the status's ``google.rpc.BadRequest`` detail when
    the node sends one, else from its message.

    Attributes:
        field: the field named, e.g. ``source``, ``record_id``,
            ``identity.kind`` (``None`` if the error names none).
        value: the offending value as the server quotes it.
        reason: why it is invalid, e.g. ``must not be empty``.
        violations: every ``(field, description)`` of the BadRequest detail
            (empty without one).
    """

    default_code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(
        self,
        details: str,
        *,
        field: str | None = None,
        value: str | None = None,
        reason: str | None = None,
        code: grpc.StatusCode | None = None,
        endpoint: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(details, code=code, endpoint=endpoint, attempts=attempts)
        if field is None:
            field, value, reason = parse_field(details)
        self.field = field
        self.value = value
        self.reason = reason
        self.violations: list[tuple[str, str]] = []


class DeadlineExceeded(KindredError, TimeoutError):
    """No answer within the call's deadline (``timeout``)."""

    default_code = grpc.StatusCode.DEADLINE_EXCEEDED


class NotFound(KindredError, LookupError):
    """The record, entity, customer or trait does not exist."""

    default_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(KindredError):
    """Something with this key exists already with other content (e.g. an
    event id reused for a different event)."""

    default_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(KindredError):
    """The caller's role may not make this call (e.g. a ``reader`` upserting)."""

    default_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(KindredError):
    """The input is over a size limit (a record over 64 KiB, a batch over
    10,000 records, a message over 16 MiB)."""

    default_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(KindredError):
    """The cluster is not in a state to do this (e.g. training failed)."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(KindredError):
    """The call was aborted by a concurrent change (e.g. a partition moved);
    retried automatically for idempotent calls."""

    default_code = grpc.StatusCode.ABORTED


class OutOfRange(KindredError):
    default_code = grpc.StatusCode.OUT_OF_RANGE


class Unimplemented(KindredError):
    """The server does not implement the method (an older server?)."""

    default_code = grpc.StatusCode.UNIMPLEMENTED


class Internal(KindredError):
    default_code = grpc.StatusCode.INTERNAL


class Unavailable(KindredError, ConnectionError):
    """No endpoint could serve the call: unreachable, starting or shutting
    down, after every retry and failover allowed."""

    default_code = grpc.StatusCode.UNAVAILABLE


class DataLoss(KindredError):
    default_code = grpc.StatusCode.DATA_LOSS


class Unauthenticated(KindredError):
    """The credentials are missing or wrong (no token, an unknown token)."""

    default_code = grpc.StatusCode.UNAUTHENTICATED


class BulkError(KindredError):
    """A bulk call finished but some items were rejected.

    Every other item was stored. ``result`` holds the outcome of every item
    (``result.errors`` the rejected ones, each naming its field).
    """

    def __init__(self, result: BulkResult[Any]) -> None:
        errors = result.errors
        first = errors[0].error if errors else None
        summary = f"{len(errors)} of {len(result)} items rejected"
        if first is not None:
            summary += f"; first: item {errors[0].index}: {first.message}"
        super().__init__(summary)
        self.result = result
        self.bulk_result = result


_BY_CODE: dict[grpc.StatusCode, type[KindredError]] = {
    cls.default_code: cls
    for cls in (
        Cancelled,
        Unknown,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        Internal,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
    if cls.default_code is not None
}

_CODE_BY_NUMBER: dict[int, grpc.StatusCode] = {c.value[0]: c for c in grpc.StatusCode}


def status_code(number: int) -> grpc.StatusCode:
    """The gRPC status code of a number (as in ``RecordError.code``)."""
    return _CODE_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


def error_for_code(code: grpc.StatusCode) -> type[KindredError]:
    """The exception class for a gRPC status code."""
    return _BY_CODE.get(code, KindredError)


def from_rpc_error(
    err: grpc.RpcError, *, endpoint: str | None = None, attempts: int = 1, request_id: str | None = None
) -> KindredError:
    """Converts a ``grpc.RpcError`` (a failed call) to its KindredError."""
    code = err.code() if hasattr(err, "code") else grpc.StatusCode.UNKNOWN
    details = (err.details() if hasattr(err, "details") else None) or ""
    if code is None:
        code = grpc.StatusCode.UNKNOWN
    cls = error_for_code(code)
    exc = cls(details or code.name.lower().replace("_", " "), code=code, endpoint=endpoint, attempts=attempts)
    if isinstance(exc, InvalidArgument):
        violations = bad_request_violations(err)
        if violations:
            exc.violations = violations
            field, description = violations[0]
            value, reason = _split_description(description)
            exc.field, exc.value, exc.reason = field, value, reason
    exc.request_id = _metadata_value(err, REQUEST_ID_KEY) or request_id
    exc.__cause__ = err
    return exc


#: The metadata key of a call's request id.
REQUEST_ID_KEY = "x-request-id"


def _metadata_value(err: grpc.RpcError, key: str) -> str | None:
    """A text value of the call's trailers (or headers), if any."""
    for getter in ("trailing_metadata", "initial_metadata"):
        try:
            md = getattr(err, getter)() or ()
        except Exception:  # not a finished call
            continue
        for k, v in md:
            if k == key and isinstance(v, str):
                return v
    return None


_DETAILS_KEY = "grpc-status-details-bin"


def bad_request_violations(err: grpc.RpcError) -> list[tuple[str, str]]:
    """The ``(field, description)`` pairs of a ``google.rpc.BadRequest``
    detail in the call's ``grpc-status-details-bin`` trailer (the gRPC
    rich error model), or an empty list."""
    try:
        trailers = err.trailing_metadata() or ()
    except Exception:  # not a call error (e.g. raised before the call)
        return []
    raw = next((v for k, v in trailers if k == _DETAILS_KEY), None)
    if not raw:
        return []
    from google.protobuf.message import DecodeError
    from google.rpc import error_details_pb2, status_pb2

    try:
        status = status_pb2.Status.FromString(raw)
    except DecodeError:
        return []
    out: list[tuple[str, str]] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            out.extend((v.field, v.description) for v in bad.field_violations)
    return out


_QUOTED_PREFIX = re.compile(r'(?P<value>"(?:[^"\\]|\\.)*"): (?P<reason>.*)\Z', re.S)


def _split_description(description: str) -> tuple[str | None, str]:
    """A violation's description: ``"value": reason`` or just the reason."""
    m = _QUOTED_PREFIX.match(description)
    if m:
        return _unquote(m.group("value")), m.group("reason")
    return None, description


# The node writes invalid-input errors in two forms (node/src/error.rs and
# node/src/engine/resolver.rs); the value is a Rust debug-quoted string:
#   invalid record: field `source` = "": must not be empty
#   invalid argument: identity.kind = "": is required
_FIELD_PATTERNS = (
    re.compile(r'invalid record: field `(?P<field>[^`]*)` = (?P<value>"(?:[^"\\]|\\.)*"): (?P<reason>.*)\Z', re.S),
    re.compile(r'invalid argument: (?P<field>\S+) = (?P<value>"(?:[^"\\]|\\.)*"): (?P<reason>.*)\Z', re.S),
)

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
_UNICODE_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,6})\}|\\(.)", re.S)


def _unquote(quoted: str) -> str:
    body = quoted[1:-1]

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 16))
        return _ESCAPES.get(m.group(2), m.group(2))

    return _UNICODE_ESCAPE.sub(sub, body)


def parse_field(details: str) -> tuple[str | None, str | None, str | None]:
    """(field, value, reason) of a node's invalid-input message, or Nones."""
    for pattern in _FIELD_PATTERNS:
        m = pattern.search(details)
        if m:
            return m.group("field"), _unquote(m.group("value")), m.group("reason")
    return None, None, None

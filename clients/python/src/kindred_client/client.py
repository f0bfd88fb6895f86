"""The Kindred client: :class:`KindredClient`."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, Union

import grpc
from grpc_health.v1 import health_pb2

from . import _bulk
from ._transport import (
    BearerToken,
    PemSource,
    Stubs,
    Target,
    new_request_id,
    parse_endpoint,
    read_pem,
    split_endpoints,
)
from ._version import __version__
from .errors import REQUEST_ID_KEY, DeadlineExceeded, InvalidArgument, KindredError, Unavailable, from_rpc_error
from .export import ExportStream
from .records import (
    EventLike,
    Extra,
    RecordLike,
    RecordRefLike,
    RowMapper,
    is_missing,
    to_event,
    to_record,
    to_record_ref,
)
from .results import EventResults, UpsertResults
from .retry import RetryPolicy
from .v1 import activity_pb2, cluster_pb2, events_pb2, kindred_pb2, privacy_pb2, record_pb2, segments_pb2
from .watch import WatchStream

if TYPE_CHECKING:
    import pandas

__all__ = ["KindredClient", "DEFAULT_TIMEOUT", "MAX_MESSAGE_BYTES"]

log = logging.getLogger("kindred_client")

#: Default deadline of a unary call, in seconds (retries included).
DEFAULT_TIMEOUT = 30.0
#: Largest message sent or received (profiles of big customers are large).
MAX_MESSAGE_BYTES = 64 * 1024 * 1024

_RecordOrRejected = Union[record_pb2.Record, _bulk.Rejected]


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: Marks a ``timeout`` argument left out: the client's default applies.
DEFAULT: Any = _Default()

# The node answers this while it restores its data; nothing was done.
_STARTING = "node is starting"
# grpc-core's words for a connection that could not be made: the request
# never left the client.
_NOT_CONNECTED = ("failed to connect to all addresses", "dns resolution failed", "connections to all backends failing")


def _not_delivered(err: grpc.RpcError) -> bool:
    """The request provably never reached a Kindred service."""
    if err.code() != grpc.StatusCode.UNAVAILABLE:
        return False
    details = (err.details() or "").lower()
    return _STARTING in details or any(s in details for s in _NOT_CONNECTED)


class KindredClient:
    """A client of a Kindred cluster.

    Args:
        endpoints: one endpoint or several (a list, or one comma-separated
            string): ``host:port``, ``http://host:port``, ``https://host:port``
            or a gRPC target such as ``unix:/run/kindred.sock``. Calls go to
            the endpoint that answered last and fail over to the next one.
        token: bearer token sent with every call (``authorization: Bearer``).
        tls: ``True`` for TLS on every endpoint, ``False`` for none; ``None``
            (the default) takes it from each endpoint's scheme
            (``https://``), and uses TLS for scheme-less endpoints when
            ``ca_cert`` or ``client_cert`` is given.
        ca_cert: PEM CA bundle the server's certificate must chain to (bytes,
            PEM text or a file path); the system's roots if not given.
        client_cert, client_key: PEM client certificate and key for mutual TLS.
        tls_server_name: the name to verify the server's certificate against,
            when it is not the endpoint's host (e.g. ``localhost``).
        timeout: default deadline of each unary call in seconds, retries and
            failovers included (``None``: no deadline). Streams (bulk
            upserts, exports) have no default deadline; every method takes
            ``timeout=`` to override.
        retry: the :class:`RetryPolicy` (``kindred_client.NO_RETRY`` to
            disable retries and failover).
        allow_insecure_token: send the token over plaintext to a host that is
            not this machine. Refused by default: anyone on the path could
            read it.
        options: extra gRPC channel options, e.g. ``[("grpc.enable_http_proxy", 0)]``.
        max_message_bytes: largest message sent or received.

    The client is thread-safe; create one and share it. Use it as a
    context manager, or call :meth:`close`, to close its channels.
    """

    def __init__(
        self,
        endpoints: str | Sequence[str],
        *,
        token: str | None = None,
        tls: bool | None = None,
        ca_cert: PemSource | None = None,
        client_cert: PemSource | None = None,
        client_key: PemSource | None = None,
        tls_server_name: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        allow_insecure_token: bool = False,
        options: Sequence[tuple[str, Any]] = (),
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be positive or None, got {timeout}")
        if (client_cert is None) != (client_key is None):
            raise ValueError("client_cert and client_key go together")
        self._timeout = timeout
        self._retry = retry if retry is not None else RetryPolicy()
        tls_implied = ca_cert is not None or client_cert is not None
        parsed = [parse_endpoint(e, tls, tls_implied) for e in split_endpoints(endpoints)]

        credentials = None
        if any(e.tls for e in parsed):
            credentials = grpc.ssl_channel_credentials(
                root_certificates=read_pem(ca_cert, "ca_cert"),
                private_key=read_pem(client_key, "client_key"),
                certificate_chain=read_pem(client_cert, "client_cert"),
            )
        elif ca_cert is not None or client_cert is not None:
            raise ValueError("ca_cert and client_cert need TLS, but every endpoint is plaintext (http://)")

        bearer = None
        if token is not None:
            bearer = BearerToken(token)
            exposed = [e.url for e in parsed if not e.tls and not e.is_loopback]
            if exposed and not allow_insecure_token:
                raise ValueError(
                    f"refusing to send the token in plaintext to {', '.join(exposed)}: use TLS "
                    "(https:// endpoints, or tls=True with ca_cert) or pass allow_insecure_token=True"
                )

        channel_options: list[tuple[str, Any]] = [
            ("grpc.max_send_message_length", max_message_bytes),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.primary_user_agent", f"kindred-client-python/{__version__}"),
            # Reconnect about as fast as the retry policy retries, so that a
            # node that comes back is used by the next attempt.
            ("grpc.initial_reconnect_backoff_ms", max(20, int(self._retry.initial_backoff * 1000))),
            ("grpc.max_reconnect_backoff_ms", max(100, int(self._retry.max_backoff * 1000))),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.keepalive_timeout_ms", 20_000),
        ]
        if tls_server_name:
            channel_options.append(("grpc.ssl_target_name_override", tls_server_name))
        channel_options.extend(options)
        self._targets = [Target(e, credentials, channel_options, bearer) for e in parsed]
        self._current = 0
        self._closed = False

    @classmethod
    def from_env(cls, **kwargs: Any) -> KindredClient:
        """A client configured as the ``kindred`` CLI is: ``KINDRED_ENDPOINT``
        (comma-separated), ``KINDRED_TOKEN``, ``KINDRED_CA``,
        ``KINDRED_CLIENT_CERT``, ``KINDRED_CLIENT_KEY``. Keyword arguments
        override them and pass the other settings."""
        env = os.environ
        settings: dict[str, Any] = {}
        if env.get("KINDRED_TOKEN"):
            settings["token"] = env["KINDRED_TOKEN"]
        for var, key in (
            ("KINDRED_CA", "ca_cert"),
            ("KINDRED_CLIENT_CERT", "client_cert"),
            ("KINDRED_CLIENT_KEY", "client_key"),
        ):
            if env.get(var):
                settings[key] = env[var]
        settings.update(kwargs)
        endpoints = settings.pop("endpoints", None) or env.get("KINDRED_ENDPOINT")
        if not endpoints:
            raise ValueError("no endpoint: set KINDRED_ENDPOINT (e.g. http://127.0.0.1:7000) or pass endpoints=")
        return cls(endpoints, **settings)

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Closes every channel. Calls made afterwards fail with ValueError."""
        self._closed = True
        for t in self._targets:
            t.close()

    def __enter__(self) -> KindredClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KindredClient({[t.url for t in self._targets]!r}, current={self.current_endpoint!r})"

    @property
    def endpoints(self) -> list[str]:
        """The endpoints, in failover order."""
        return [t.url for t in self._targets]

    @property
    def current_endpoint(self) -> str:
        """The endpoint that answered last (where the next call goes first)."""
        return self._targets[self._current].url

    def stubs(self, endpoint: int | None = None) -> Stubs:
        """The raw generated stubs (``records``, ``profiles``, ``explain``,
        ``admin``, ``events``, ``traits``, ``cluster``, ``health``) on the
        current endpoint's channel, or the given endpoint's (by index). Their
        calls carry the token but are not retried and do not fail over."""
        return self._target(self._current if endpoint is None else endpoint).stubs()

    def _target(self, i: int) -> Target:
        if self._closed:
            raise ValueError("the client is closed")
        return self._targets[i]

    # ------------------------------------------------------------ machinery

    def _deadline(self, timeout: float | None | _Default) -> float | None:
        t = self._timeout if isinstance(timeout, _Default) else timeout
        if t is not None and t <= 0:
            raise ValueError(f"timeout must be positive or None, got {t}")
        return None if t is None else time.monotonic() + t

    def _call(
        self,
        method: Callable[[Stubs], Any],
        request: Any,
        *,
        idempotent: bool,
        timeout: float | None | _Default = DEFAULT,
        first: Callable[[Any], Any] | None = None,
    ) -> Any:
        """Calls ``method(stubs)(request)`` with retries and failover.

        With ``first``, the call is a server stream: ``first(call)`` waits
        for its first message, and only the opening of the stream is retried.
        """
        deadline = self._deadline(timeout)
        policy = self._retry
        n = len(self._targets)
        i = self._current
        tried: set[int] = set()
        # One id for every attempt of the call, so that the nodes' logs
        # show its attempts together.
        request_id = new_request_id()
        metadata = ((REQUEST_ID_KEY, request_id),)
        round_number = 0
        attempt = 0
        while True:
            attempt += 1
            target = self._target(i)
            tried.add(i)
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(
                    "the call's deadline passed before it could be made", endpoint=target.url, attempts=attempt - 1
                )
            call_timeout = remaining
            capped = False
            if (
                idempotent
                and policy.attempt_timeout is not None
                and (remaining is None or policy.attempt_timeout < remaining)
            ):
                call_timeout, capped = policy.attempt_timeout, True
            try:
                call = method(target.stubs())(request, timeout=call_timeout, metadata=metadata)
                result = first(call) if first is not None else call
                self._current = i
                return result
            except grpc.RpcError as err:
                code = err.code()
                attempt_ran_out = capped and code == grpc.StatusCode.DEADLINE_EXCEEDED
                retryable = attempt_ran_out or (policy.is_retryable(code) and (idempotent or _not_delivered(err)))
                if not retryable or attempt >= policy.max_attempts:
                    raise self._error(
                        err, target, attempt, call_timeout if capped else None, timeout, request_id
                    ) from err
                nxt = (i + 1) % n
                if nxt in tried:
                    round_number += 1
                    tried.clear()
                    delay = policy.backoff(round_number)
                    if deadline is not None and time.monotonic() + delay >= deadline:
                        raise self._error(
                            err, target, attempt, call_timeout if capped else None, timeout, request_id
                        ) from err
                    log.info(
                        "%s from %s (attempt %d, request %s); retrying in %.2fs",
                        code.name if code else "error",
                        target.url,
                        attempt,
                        request_id,
                        delay,
                    )
                    time.sleep(delay)
                else:
                    log.info(
                        "%s from %s (attempt %d, request %s); failing over to %s",
                        code.name if code else "error",
                        target.url,
                        attempt,
                        request_id,
                        self._targets[nxt].url,
                    )
                i = nxt

    def _error(
        self,
        err: grpc.RpcError,
        target: Target,
        attempts: int,
        attempt_timeout: float | None,
        timeout: float | None | _Default,
        request_id: str,
    ) -> KindredError:
        exc = from_rpc_error(err, endpoint=target.url, attempts=attempts, request_id=request_id)
        if isinstance(exc, DeadlineExceeded):
            t = self._timeout if isinstance(timeout, _Default) else timeout
            if attempt_timeout is not None:
                exc.details = f"no answer within {attempt_timeout:g}s (the attempt timeout)"
            elif t is not None:
                exc.details = f"no answer within {t:g}s"
        if isinstance(exc, Unavailable) and len(self._targets) > 1 and attempts > 1:
            exc.details += f" (every endpoint tried: {', '.join(self.endpoints)})"
        return exc

    def _unary(
        self,
        method: Callable[[Stubs], Any],
        request: Any,
        *,
        idempotent: bool = True,
        timeout: float | None | _Default = DEFAULT,
    ) -> Any:
        return self._call(method, request, idempotent=idempotent, timeout=timeout)

    # -------------------------------------------------------------- health

    def health(self, *, timeout: float | None | _Default = DEFAULT) -> str:
        """The serving status (``SERVING``, ``NOT_SERVING``, ...) of the first
        endpoint that answers (``grpc.health.v1``)."""
        resp = self._unary(lambda s: s.health.Check, health_pb2.HealthCheckRequest(service=""), timeout=timeout)
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    def wait_until_ready(self, timeout: float = 60.0) -> str:
        """Waits until an endpoint reports ``SERVING`` (a node restores its
        data before it serves); returns that endpoint. Raises
        :class:`DeadlineExceeded` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        delay = 0.05
        while True:
            for i, target in enumerate(self._targets):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    resp = target.stubs().health.Check(
                        health_pb2.HealthCheckRequest(service=""), timeout=min(remaining, 5.0)
                    )
                    if resp.status == health_pb2.HealthCheckResponse.SERVING:
                        self._current = i
                        return target.url
                    last = f"{target.url}: {health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)}"
                except grpc.RpcError as err:
                    last = f"{target.url}: {err.code().name}: {err.details()}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded(f"no endpoint SERVING within {timeout:g}s (last: {last})")
            time.sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)

    # ------------------------------------------------------------- records

    def upsert(
        self, record: RecordLike, *, source: str | None = None, timeout: float | None | _Default = DEFAULT
    ) -> kindred_pb2.ResolveResult:
        """Inserts or replaces one record (keyed by source and record id) and
        resolves it.

        ``record`` is a ``Record`` message or a mapping (see
        :mod:`kindred_client.records`); ``source`` is used when it has none.
        Returns how it was resolved: ``entity_id``, ``action`` (created,
        joined, merged), ``absorbed`` entities, ``issues`` (values kept raw).
        Idempotent, so retried on transient failures.
        """
        req = kindred_pb2.UpsertRequest(record=to_record(record, source=source))
        resp = self._unary(lambda s: s.records.Upsert, req, timeout=timeout)
        return resp.result  # type: ignore[no-any-return]

    def bulk_upsert(
        self,
        records: Iterable[RecordLike] | pandas.DataFrame,
        *,
        source: str | None = None,
        identifiers: Sequence[str] | Mapping[str, str] | None = None,
        attributes: Sequence[str] | Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        extra: Extra = "error",
        batch_size: int = 500,
        raise_on_error: bool = True,
        timeout: float | None = None,
    ) -> UpsertResults:
        """Upserts many records over one ``Records.BulkUpsert`` stream.

        ``records`` is a pandas DataFrame (one record per row, columns named
        as the keys of a record mapping) or any iterable of records
        (mappings or ``Record`` messages), read lazily: a generator over a
        large file is fine.

        Args:
            source: the source of records that have none.
            identifiers: columns (keys) holding typed identifiers: a list
                (the column is the kind) or a mapping of column to kind.
            attributes: columns (keys) kept as free attributes on the profile.
            defaults: values for fields a record leaves empty, e.g.
                ``{"country": "AU"}``.
            extra: what to do with other columns: ``"error"`` (default),
                ``"attributes"`` or ``"ignore"``.
            batch_size: records per request (the node takes at most 10,000;
                batches are also kept under 4 MiB).
            raise_on_error: raise :class:`BulkError` at the end if any record
                was rejected (every other record is stored either way; the
                error's ``result`` has them all). ``False``: return the
                result and let the caller look at ``result.errors``.
            timeout: deadline of the whole upload in seconds (default none).

        Returns:
            :class:`UpsertResults`: one ``BulkItemResult`` per input record, in
            input order. A DataFrame's results keep its index
            (``result.to_dataframe()``).

        A record the node rejects (``INVALID_ARGUMENT`` naming the field, a
        record over the size limit) is reported and the rest go on. Transient
        failures are retried: the stream is resumed — on the next endpoint
        if the node became unreachable — from the first record without an
        answer, in input order, so later versions of a record still win.
        Upserts are idempotent, so a record sent twice is stored once (its
        second result may say ``replaced``).
        """
        labels, items = self._record_items(records, source, identifiers, attributes, defaults, extra)
        result = UpsertResults(labels=labels)
        try:
            for item in self._iter_bulk_items(items, batch_size=batch_size, timeout=timeout):
                result.items.append(item)
        except KindredError as e:
            e.bulk_result = result
            raise
        if raise_on_error:
            result.raise_for_errors()
        return result

    def iter_bulk_upsert(
        self,
        records: Iterable[RecordLike] | pandas.DataFrame,
        *,
        source: str | None = None,
        identifiers: Sequence[str] | Mapping[str, str] | None = None,
        attributes: Sequence[str] | Mapping[str, str] | None = None,
        defaults: Mapping[str, Any] | None = None,
        extra: Extra = "error",
        batch_size: int = 500,
        timeout: float | None = None,
    ) -> Iterator[kindred_pb2.BulkItemResult]:
        """As :meth:`bulk_upsert`, but yields each record's ``BulkItemResult``
        (``index`` = input position) as it is settled, without keeping them:
        for loads too large to hold every result in memory."""
        _, items = self._record_items(records, source, identifiers, attributes, defaults, extra)
        return self._iter_bulk_items(items, batch_size=batch_size, timeout=timeout)

    def _iter_bulk_items(
        self, items: Iterable[_RecordOrRejected], *, batch_size: int = 500, timeout: float | None = None
    ) -> Iterator[kindred_pb2.BulkItemResult]:
        return _bulk.run(
            self,
            items,
            method=lambda s: s.records.BulkUpsert,
            make_request=lambda msgs: kindred_pb2.BulkUpsertRequest(records=msgs),
            results_of=lambda resp: resp.results,
            batch_size=batch_size,
            timeout=timeout,
        )

    def _record_items(
        self,
        records: Iterable[RecordLike] | pandas.DataFrame,
        source: str | None,
        identifiers: Sequence[str] | Mapping[str, str] | None,
        attributes: Sequence[str] | Mapping[str, str] | None,
        defaults: Mapping[str, Any] | None,
        extra: Extra,
    ) -> tuple[list[Any] | None, Iterator[_RecordOrRejected]]:
        mapper = RowMapper(
            source=source, identifiers=identifiers, attributes=attributes, defaults=defaults, extra=extra
        )
        labels: list[Any] | None = None
        rows: Iterable[Any]
        if _is_dataframe(records):
            df: Any = records
            mapper.check_columns(df.columns)
            labels = list(df.index)
            columns = [str(c) for c in df.columns]
            rows = (dict(zip(columns, values, strict=True)) for values in df.itertuples(index=False, name=None))
        elif isinstance(records, (str, bytes, Mapping, kindred_pb2.RecordRef)) or not isinstance(records, Iterable):
            raise TypeError(
                f"records must be a DataFrame or an iterable of records, got {type(records).__name__} "
                "(for one record, use upsert())"
            )
        else:
            rows = records

        def convert() -> Iterator[_RecordOrRejected]:
            for row in rows:
                try:
                    yield mapper.record(row)
                except InvalidArgument as e:
                    yield _bulk.Rejected(
                        code=grpc.StatusCode.INVALID_ARGUMENT,
                        field=e.field or "",
                        value=e.value or "",
                        message=e.details,
                        ref=_ref_of(row),
                    )

        return labels, convert()

    def get_record(
        self, record: RecordRefLike, *, timeout: float | None | _Default = DEFAULT
    ) -> kindred_pb2.GetRecordResponse:
        """A stored record as it was sent (``record``), its ``entity_id`` and
        standardisation ``issues``. ``record`` is ``"source:record_id"``, a
        ``(source, record_id)`` tuple or a ``RecordRef``."""
        req = kindred_pb2.GetRecordRequest(record=to_record_ref(record))
        return self._unary(lambda s: s.records.Get, req, timeout=timeout)  # type: ignore[no-any-return]

    def delete(self, record: RecordRefLike, *, timeout: float | None | _Default = DEFAULT) -> list[int]:
        """Deletes a record; returns its former entity and any entities split
        off from it. Raises :class:`NotFound` if there is no such record.

        Not retried once the request may have reached a node (a second
        delete would answer ``NOT_FOUND``); failed over only when the
        connection could not be made.
        """
        req = kindred_pb2.DeleteRequest(record=to_record_ref(record))
        resp = self._unary(lambda s: s.records.Delete, req, idempotent=False, timeout=timeout)
        return list(resp.affected_entities)

    # ------------------------------------------------------------ profiles

    def profile(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        record: RecordRefLike | None = None,
        entity_id: int | None = None,
        identifier: tuple[str, str] | None = None,
        timeout: float | None | _Default = DEFAULT,
    ) -> kindred_pb2.Profile:
        """One customer's profile, found by exactly one key::

            kindred.profile(email="jane@example.com")
            kindred.profile(phone="+61 412 345 678")        # any format the node reads
            kindred.profile(record="crm:C-1042")             # or ("crm", "C-1042")
            kindred.profile(entity_id=1234)
            kindred.profile(identifier=("loyalty_number", "LN-7788"))

        Returns the ``Profile`` message: ``entity_id``, ``golden`` (the best
        value of each attribute, naming its source record), ``identities``,
        ``records`` (as sent), ``attributes``, ``possible_matches``,
        ``merged_ids``, ``traits``, ``lifecycle``, ``rfm``, ``recent_events``.
        Raises :class:`NotFound` when no customer matches.
        """
        req = self._profile_request(email=email, phone=phone, record=record, entity_id=entity_id, identifier=identifier)
        return self._unary(lambda s: s.profiles.Get, req, timeout=timeout)  # type: ignore[no-any-return]

    @staticmethod
    def _profile_request(
        *,
        email: str | None,
        phone: str | None,
        record: RecordRefLike | None,
        entity_id: int | None,
        identifier: tuple[str, str] | None,
    ) -> kindred_pb2.GetProfileRequest:
        given = {
            k: v
            for k, v in dict(
                email=email, phone=phone, record=record, entity_id=entity_id, identifier=identifier
            ).items()
            if v is not None
        }
        if len(given) != 1:
            raise InvalidArgument(
                "give exactly one of email=, phone=, record=, entity_id=, identifier= "
                f"(got {', '.join(given) or 'none'})",
                field="key",
                reason="exactly one key",
            )
        if email is not None:
            return kindred_pb2.GetProfileRequest(identity=kindred_pb2.IdentityLookup(kind="email", value=email))
        if phone is not None:
            return kindred_pb2.GetProfileRequest(identity=kindred_pb2.IdentityLookup(kind="phone", value=phone))
        if record is not None:
            return kindred_pb2.GetProfileRequest(record=to_record_ref(record))
        if entity_id is not None:
            return kindred_pb2.GetProfileRequest(entity_id=int(entity_id))
        assert identifier is not None
        try:
            kind, value = identifier
        except (TypeError, ValueError):
            raise InvalidArgument(
                "identifier must be a (kind, value) pair", field="identifier", reason="not a pair"
            ) from None
        return kindred_pb2.GetProfileRequest(identity=kindred_pb2.IdentityLookup(kind=kind, value=value))

    def search(
        self,
        query: RecordLike,
        *,
        limit: int = 10,
        min_probability: float = 0.0,
        timeout: float | None | _Default = DEFAULT,
    ) -> list[kindred_pb2.SearchCandidate]:
        """Ranked candidate customers for a partial description of a person
        (a record mapping without source or record id), best first.
        ``min_probability`` 0 means the node's default (0.01)."""
        req = kindred_pb2.SearchRequest(query=to_record(query), limit=limit, min_probability=min_probability)
        resp = self._unary(lambda s: s.profiles.Search, req, timeout=timeout)
        return list(resp.candidates)

    def export_assignments(
        self, *, chunk_size: int = 0, timeout: float | None = None
    ) -> ExportStream[kindred_pb2.Assignment]:
        """Every record with its entity id, as a stream of ``Assignment``
        messages (``record.source``, ``record.record_id``, ``entity_id``).
        ``.to_dataframe()`` gives columns ``source``, ``record_id``,
        ``entity_id``. Opening the stream is retried; a stream that breaks
        midway raises (start again)."""
        req = kindred_pb2.ExportRequest(chunk_size=chunk_size)
        return ExportStream(self, lambda s: s.profiles.ExportAssignments, req, timeout, kind="assignments")

    def export_profiles(
        self, *, purpose: str = "", timeout: float | None = None
    ) -> ExportStream[kindred_pb2.Profile]:
        """Every customer's ``Profile``, as a stream; with ``purpose``, only
        the customers whose consent for it is granted (an audience).
        ``.to_dataframe()`` gives one row per customer (see
        :func:`kindred_client.dataframes.profiles_to_dataframe`)."""
        req = kindred_pb2.ExportRequest(purpose=purpose)
        return ExportStream(self, lambda s: s.profiles.ExportProfiles, req, timeout, kind="profiles")

    # ------------------------------------------------------------- explain

    def why(
        self, a: RecordRefLike, b: RecordRefLike, *, timeout: float | None | _Default = DEFAULT
    ) -> kindred_pb2.PairExplanation:
        """Why two records match or not: per-attribute ``comparisons``
        (level, label, weight), ``total_weight``, ``probability``, the
        thresholds and the ``decision``."""
        req = kindred_pb2.WhyRecordsRequest(a=to_record_ref(a, "a"), b=to_record_ref(b, "b"))
        return self._unary(lambda s: s.explain.WhyRecords, req, timeout=timeout)  # type: ignore[no-any-return]

    def why_entity(
        self, record: RecordRefLike, entity_id: int, *, timeout: float | None | _Default = DEFAULT
    ) -> kindred_pb2.EntityExplanation:
        """Why a record does or does not belong to an entity (``member`` and
        the pair explanations against the entity's records)."""
        req = kindred_pb2.WhyEntityRequest(record=to_record_ref(record), entity_id=int(entity_id))
        return self._unary(lambda s: s.explain.WhyEntity, req, timeout=timeout)  # type: ignore[no-any-return]

    def how(self, entity_id: int, *, timeout: float | None | _Default = DEFAULT) -> kindred_pb2.EntityHistory:
        """How an entity was built: its ``records`` and the history ``events``
        (created, joined, merged, split, ...) with the pair that linked them."""
        req = kindred_pb2.HowRequest(entity_id=int(entity_id))
        return self._unary(lambda s: s.explain.How, req, timeout=timeout)  # type: ignore[no-any-return]

    # -------------------------------------------------------------- events

    def send_event(
        self, event: EventLike, *, source: str | None = None, timeout: float | None | _Default = DEFAULT
    ) -> events_pb2.EventResult:
        """Stores one event (a mapping or an ``Event``, see
        :func:`kindred_client.records.to_event`). Idempotent on source,
        record id and event id, so retried on transient failures; the same
        event id with other content raises :class:`AlreadyExists`."""
        req = events_pb2.SendEventRequest(event=to_event(event, source=source))
        resp = self._unary(lambda s: s.events.Send, req, timeout=timeout)
        return resp.result  # type: ignore[no-any-return]

    def send_events(
        self,
        events: Iterable[EventLike] | pandas.DataFrame,
        *,
        source: str | None = None,
        batch_size: int = 500,
        raise_on_error: bool = True,
        timeout: float | None = None,
    ) -> EventResults:
        """Sends many events over one ``Events.BulkSend`` stream, with the
        same batching, retry and error semantics as :meth:`bulk_upsert`.
        A DataFrame's columns are event fields; ``properties.NAME`` columns
        become properties."""
        labels: list[Any] | None = None
        rows: Iterable[Any]
        if _is_dataframe(events):
            df: Any = events
            labels = list(df.index)
            columns = [str(c) for c in df.columns]
            rows = (
                _nest_properties(dict(zip(columns, values, strict=True)))
                for values in df.itertuples(index=False, name=None)
            )
        else:
            rows = events

        def convert() -> Iterator[Any]:
            for row in rows:
                try:
                    yield to_event(row, source=source)
                except InvalidArgument as e:
                    yield _bulk.Rejected(
                        code=grpc.StatusCode.INVALID_ARGUMENT,
                        field=e.field or "",
                        value=e.value or "",
                        message=e.details,
                        ref=_ref_of(row),
                        event_id=str(row.get("event_id", "")) if isinstance(row, Mapping) else "",
                    )

        result = EventResults(labels=labels)
        try:
            for item in _bulk.run(
                self,
                convert(),
                method=lambda s: s.events.BulkSend,
                make_request=lambda msgs: events_pb2.BulkSendRequest(events=msgs),
                results_of=lambda resp: resp.results,
                batch_size=batch_size,
                timeout=timeout,
                events=True,
            ):
                result.items.append(item)
        except KindredError as e:
            e.bulk_result = result
            raise
        if raise_on_error:
            result.raise_for_errors()
        return result

    def list_events(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        record: RecordRefLike | None = None,
        entity_id: int | None = None,
        identifier: tuple[str, str] | None = None,
        types: Sequence[str] = (),
        page_size: int = 0,
        timeout: float | None | _Default = DEFAULT,
    ) -> Iterator[activity_pb2.Event]:
        """A customer's events, newest first, found by one key as in
        :meth:`profile`; pages are fetched as the iterator advances."""
        key = self._profile_request(email=email, phone=phone, record=record, entity_id=entity_id, identifier=identifier)
        token = ""
        while True:
            req = events_pb2.ListEventsRequest(types=list(types), page_size=page_size, page_token=token)
            which = key.WhichOneof("key")
            if which == "entity_id":
                req.entity_id = key.entity_id
            elif which == "record":
                req.record.CopyFrom(key.record)
            else:
                req.identity.CopyFrom(key.identity)
            resp = self._unary(lambda s: s.events.List, req, timeout=timeout)
            yield from resp.events
            token = resp.next_page_token
            if not token:
                return

    # ------------------------------------------------------------- privacy

    def set_consent(
        self,
        record: RecordRefLike,
        decisions: Mapping[str, str],
        *,
        decided_at_ms: int = 0,
        timeout: float | None | _Default = DEFAULT,
    ) -> privacy_pb2.SetConsentResponse:
        """Records consent decisions against a source record::

            kindred.set_consent("web:9", {"email_marketing": "withdrawn"})

        Statuses are ``granted``, ``denied`` or ``withdrawn``;
        ``decided_at_ms`` 0 dates them when the node receives them. One
        result per decision (``error`` set on a refused one). Needs the
        writer role; a resend is harmless."""
        ref = to_record_ref(record)
        items = []
        for purpose, status in decisions.items():
            value = _CONSENT_STATUS.get(status.lower())
            if value is None:
                raise ValueError(f"consent status {status!r} for {purpose!r}: expected granted, denied or withdrawn")
            items.append(
                privacy_pb2.RecordDecision(
                    record=ref,
                    decision=record_pb2.ConsentDecision(purpose=purpose, status=value, decided_at_ms=decided_at_ms),
                )
            )
        req = privacy_pb2.SetConsentRequest(decisions=items)
        return self._unary(lambda s: s.privacy.SetConsent, req, timeout=timeout)  # type: ignore[no-any-return]

    def subject_export(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        record: RecordRefLike | None = None,
        entity_id: int | None = None,
        identifier: tuple[str, str] | None = None,
        timeout: float | None | _Default = DEFAULT,
    ) -> privacy_pb2.PrivacyExportResponse:
        """Everything held about one person (subject access), named by
        exactly one key as in :meth:`profile`: ``profile``, ``events``,
        ``consent_decisions``, ``history``, ``links``. Needs the privacy
        role."""
        req = privacy_pb2.PrivacyExportRequest(
            person=_person_ref(email=email, phone=phone, record=record, entity_id=entity_id, identifier=identifier)
        )
        return self._unary(lambda s: s.privacy.Export, req, timeout=timeout)  # type: ignore[no-any-return]

    def erase(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        record: RecordRefLike | None = None,
        entity_id: int | None = None,
        identifier: tuple[str, str] | None = None,
        timeout: float | None = None,
    ) -> privacy_pb2.Erasure:
        """Erases one person on every node (records, events, history; their
        identifiers suppressed) and returns the erasure request once done.
        Needs the privacy role. Not retried once it may have reached a node
        (asking again is safe: it erases what remains)."""
        req = privacy_pb2.EraseRequest(
            person=_person_ref(email=email, phone=phone, record=record, entity_id=entity_id, identifier=identifier)
        )
        resp = self._unary(lambda s: s.privacy.Erase, req, idempotent=False, timeout=timeout)
        return resp.erasure  # type: ignore[no-any-return]

    # ------------------------------------------------------------ segments

    def create_segment(
        self, segment: segments_pb2.Segment | Mapping[str, Any], *, timeout: float | None | _Default = DEFAULT
    ) -> segments_pb2.Segment:
        """Defines a segment, from a ``segments_pb2.Segment`` or a dict in the
        proto3 JSON mapping of one::

            kindred.create_segment({"name": "web_lapsed", "condition": {"all": {"of": [
                {"stage": {"any_of": ["lapsed"]}}, {"has_source": "web"}]}}})

        Needs the writer role; ``ALREADY_EXISTS`` if the name is taken, and
        ``INVALID_ARGUMENT`` naming the first problem's path otherwise."""
        req = segments_pb2.SegmentsCreateRequest(segment=_segment(segment))
        resp = self._unary(lambda s: s.segments.Create, req, idempotent=False, timeout=timeout)
        return resp.segment  # type: ignore[no-any-return]

    def update_segment(
        self,
        segment: segments_pb2.Segment | Mapping[str, Any],
        *,
        expected_version: int = 0,
        timeout: float | None | _Default = DEFAULT,
    ) -> segments_pb2.Segment:
        """Replaces a segment's definition; with ``expected_version``, only if
        nobody changed it since (else ``ABORTED``)."""
        req = segments_pb2.SegmentsUpdateRequest(segment=_segment(segment), expected_version=expected_version)
        resp = self._unary(lambda s: s.segments.Update, req, idempotent=False, timeout=timeout)
        return resp.segment  # type: ignore[no-any-return]

    def delete_segment(self, name: str, *, timeout: float | None | _Default = DEFAULT) -> None:
        """Deletes a segment defined through the API."""
        self._unary(lambda s: s.segments.Delete, segments_pb2.SegmentsDeleteRequest(name=name), timeout=timeout)

    def segments(self, *, timeout: float | None | _Default = DEFAULT) -> list[segments_pb2.Segment]:
        """Every segment in force: the standard ones and those defined."""
        resp = self._unary(lambda s: s.segments.List, segments_pb2.SegmentsListRequest(), timeout=timeout)
        return list(resp.segments)

    def segment(self, name: str, *, timeout: float | None | _Default = DEFAULT) -> segments_pb2.SegmentsGetResponse:
        """One segment with its ``size`` and when everyone was last swept."""
        req = segments_pb2.SegmentsGetRequest(name=name)
        return self._unary(lambda s: s.segments.Get, req, timeout=timeout)  # type: ignore[no-any-return]

    def segment_members(
        self, name: str, *, page_size: int = 1000, timeout: float | None | _Default = DEFAULT
    ) -> list[int]:
        """Every member of a segment, by customer id, ascending (read page by
        page)."""
        out: list[int] = []
        token = ""
        while True:
            req = segments_pb2.SegmentsMembersRequest(name=name, page_size=page_size, page_token=token)
            resp = self._unary(lambda s: s.segments.Members, req, timeout=timeout)
            out.extend(resp.entity_ids)
            token = resp.next_page_token
            if not token:
                return out

    def watch(
        self, segments: Sequence[str] = (), *, triggers: Sequence[str] = (), cursor: str = "now"
    ) -> WatchStream:
        """The change feed: customers entering and leaving ``segments`` and
        the firings of ``triggers`` (both empty: everything), from ``cursor``
        (``"now"``, ``"start"``: the oldest kept, or a message's ``cursor``)::

            with kindred.watch(["lapsed"], triggers=["abandoned_cart"]) as feed:
                for change in feed:
                    handle(change)
                    save(feed.cursor)

        A stream broken by a node going away resumes from the last cursor by
        itself; a cursor older than the feed's retention raises
        ``OutOfRange``."""
        return WatchStream(self, segments, triggers, cursor)

    # ------------------------------------------------------------ triggers

    def create_trigger(
        self, trigger: segments_pb2.Trigger | Mapping[str, Any], *, timeout: float | None | _Default = DEFAULT
    ) -> segments_pb2.Trigger:
        """Defines a trigger ("A then not B within T, matched on a
        property"), from a ``segments_pb2.Trigger`` or a dict in the proto3
        JSON mapping of one::

            kindred.create_trigger({"name": "browse_abandon", "start_types": ["product_viewed"],
                                    "cancel_types": ["order_completed"], "match_on": "sku",
                                    "after_seconds": 1800, "cooldown_hours": 24, "late_hours": 2})

        It watches start events that occur from now on. Needs the writer
        role; ``ALREADY_EXISTS`` if the name is taken, ``INVALID_ARGUMENT``
        naming the field otherwise."""
        req = segments_pb2.TriggersCreateRequest(trigger=_trigger(trigger))
        resp = self._unary(lambda s: s.triggers.Create, req, idempotent=False, timeout=timeout)
        return resp.trigger  # type: ignore[no-any-return]

    def update_trigger(
        self,
        trigger: segments_pb2.Trigger | Mapping[str, Any],
        *,
        expected_version: int = 0,
        timeout: float | None | _Default = DEFAULT,
    ) -> segments_pb2.Trigger:
        """Replaces a trigger's definition; with ``expected_version``, only if
        nobody changed it since (else ``ABORTED``)."""
        req = segments_pb2.TriggersUpdateRequest(trigger=_trigger(trigger), expected_version=expected_version)
        resp = self._unary(lambda s: s.triggers.Update, req, idempotent=False, timeout=timeout)
        return resp.trigger  # type: ignore[no-any-return]

    def delete_trigger(self, name: str, *, timeout: float | None | _Default = DEFAULT) -> None:
        """Deletes a trigger defined through the API."""
        self._unary(lambda s: s.triggers.Delete, segments_pb2.TriggersDeleteRequest(name=name), timeout=timeout)

    def triggers(self, *, timeout: float | None | _Default = DEFAULT) -> list[segments_pb2.Trigger]:
        """Every trigger in force: configured, then defined."""
        resp = self._unary(lambda s: s.triggers.List, segments_pb2.TriggersListRequest(), timeout=timeout)
        return list(resp.triggers)

    # --------------------------------------------------------------- admin

    def stats(self, *, timeout: float | None | _Default = DEFAULT) -> kindred_pb2.StatsResponse:
        """Cluster counters: records, entities, merges, splits, events, ..."""
        return self._unary(lambda s: s.admin.Stats, kindred_pb2.StatsRequest(), timeout=timeout)  # type: ignore[no-any-return]

    def model(self, *, timeout: float | None | _Default = DEFAULT) -> kindred_pb2.ModelResponse:
        """The match model in use (``model_version``, ``model_json``)."""
        return self._unary(lambda s: s.admin.GetModel, kindred_pb2.GetModelRequest(), timeout=timeout)  # type: ignore[no-any-return]

    def train(
        self, *, max_records: int = 0, dry_run: bool = False, force: bool = False, timeout: float | None = None
    ) -> kindred_pb2.TrainResponse:
        """Re-estimates the match model from the loaded records (no labels)
        and, unless ``dry_run``, installs it and re-resolves everything.
        Needs the admin role. No deadline by default (training can be long);
        not retried once the request may have reached a node."""
        req = kindred_pb2.TrainRequest(max_records=max_records, dry_run=dry_run, force=force)
        return self._unary(lambda s: s.admin.Train, req, idempotent=False, timeout=timeout)  # type: ignore[no-any-return]

    def cluster_status(self, *, timeout: float | None | _Default = DEFAULT) -> cluster_pb2.ClusterStatus:
        """Nodes, roles, Raft state and the partition map, as the answering
        node sees them."""
        return self._unary(lambda s: s.cluster.Status, cluster_pb2.ClusterStatusRequest(), timeout=timeout)  # type: ignore[no-any-return]


_CONSENT_STATUS = {
    **dict.fromkeys(("granted", "yes", "y", "true", "opt-in", "opt_in", "subscribed"), record_pb2.CONSENT_STATUS_GRANTED),
    **dict.fromkeys(("denied", "no", "n", "false", "opt-out", "opt_out", "declined"), record_pb2.CONSENT_STATUS_DENIED),
    **dict.fromkeys(("withdrawn", "revoked", "unsubscribed"), record_pb2.CONSENT_STATUS_WITHDRAWN),
}


def _person_ref(
    *,
    email: str | None,
    phone: str | None,
    record: RecordRefLike | None,
    entity_id: int | None,
    identifier: tuple[str, str] | None,
) -> privacy_pb2.PersonRef:
    """The one person a privacy call names (exactly one key)."""
    given = [k for k, v in (("email", email), ("phone", phone), ("record", record), ("entity_id", entity_id),
                            ("identifier", identifier)) if v is not None]
    if len(given) != 1:
        raise ValueError(f"name the person by exactly one of email, phone, record, entity_id, identifier (got {given})")
    if email is not None:
        return privacy_pb2.PersonRef(email=email)
    if phone is not None:
        return privacy_pb2.PersonRef(phone=phone)
    if record is not None:
        return privacy_pb2.PersonRef(record=to_record_ref(record))
    if entity_id is not None:
        return privacy_pb2.PersonRef(entity_id=entity_id)
    assert identifier is not None
    kind, value = identifier
    return privacy_pb2.PersonRef(identifier=privacy_pb2.IdentifierValue(kind=kind, value=value))


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "itertuples") and hasattr(obj, "columns")


def _ref_of(row: Any) -> kindred_pb2.RecordRef:
    if isinstance(row, Mapping):
        source, record_id = row.get("source"), row.get("record_id")
        return kindred_pb2.RecordRef(
            source="" if is_missing(source) else str(source),
            record_id="" if is_missing(record_id) else str(record_id),
        )
    return kindred_pb2.RecordRef()


def _nest_properties(row: dict[str, Any]) -> dict[str, Any]:
    props = {k[len("properties.") :]: row.pop(k) for k in [k for k in row if k.startswith("properties.")]}
    identity = {k[len("identity.") :]: row.pop(k) for k in [k for k in row if k.startswith("identity.")]}
    if props:
        row["properties"] = props
    if identity:
        row["identity"] = identity
    return row


_Definition = TypeVar("_Definition", segments_pb2.Segment, segments_pb2.Trigger)


def _definition(value: _Definition | Mapping[str, Any], kind: type[_Definition], what: str) -> _Definition:
    """A definition message from itself or from its proto3 JSON mapping."""
    if isinstance(value, kind):
        return value
    from google.protobuf import json_format

    message = kind()
    try:
        json_format.ParseDict(dict(value), message)
    except json_format.ParseError as e:
        raise ValueError(f"not a {what} definition: {e}") from None
    return message


def _trigger(trigger: segments_pb2.Trigger | Mapping[str, Any]) -> segments_pb2.Trigger:
    return _definition(trigger, segments_pb2.Trigger, "trigger")


def _segment(segment: segments_pb2.Segment | Mapping[str, Any]) -> segments_pb2.Segment:
    return _definition(segment, segments_pb2.Segment, "segment")

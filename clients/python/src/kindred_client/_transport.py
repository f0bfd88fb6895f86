"""Endpoints, channels and credentials."""

from __future__ import annotations

import collections
import ipaddress
import os
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Union
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2_grpc

from .v1 import cluster_pb2_grpc, events_pb2_grpc, kindred_pb2_grpc, privacy_pb2_grpc, segments_pb2_grpc

PemSource = Union[str, bytes, "os.PathLike[str]"]
"""PEM data: bytes, text starting with ``-----BEGIN``, or a file path."""


@dataclass(frozen=True)
class Endpoint:
    """One address of the cluster.

    Attributes:
        url: the endpoint as shown in messages, e.g. ``http://127.0.0.1:7000``.
        target: the gRPC target, e.g. ``127.0.0.1:7000`` or ``unix:/run/k.sock``.
        tls: whether the channel uses TLS.
        host: the host name or address (None for non-TCP targets).
    """

    url: str
    target: str
    tls: bool
    host: str | None

    @property
    def is_loopback(self) -> bool:
        if self.target.startswith(("unix:", "unix-abstract:")):
            return True
        if self.host is None:
            return False
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def split_endpoints(endpoints: str | Sequence[str]) -> list[str]:
    """Endpoints from a list, or from one comma-separated string (as the
    CLI's ``--endpoint`` and ``KINDRED_ENDPOINT`` take them)."""
    items = endpoints.split(",") if isinstance(endpoints, str) else list(endpoints)
    out = [e.strip() for e in items if isinstance(e, str) and e.strip()]
    if not isinstance(endpoints, str):
        for e in endpoints:
            if not isinstance(e, str):
                raise TypeError(f"an endpoint must be a string, got {type(e).__name__}")
    if not out:
        raise ValueError("no endpoint given (e.g. KindredClient('127.0.0.1:7000'))")
    return out


def parse_endpoint(text: str, tls: bool | None, tls_implied: bool) -> Endpoint:
    """Parses ``host:port``, ``http://host:port``, ``https://host:port`` or a
    gRPC target with a scheme (``unix:``, ``dns:``, ...).

    ``tls`` forces TLS on or off; ``None`` takes it from the scheme, else
    from ``tls_implied`` (a CA or client certificate was given).
    """
    lowered = text.lower()
    if lowered.startswith(("http://", "https://")):
        parts = urlsplit(text)
        scheme_tls = parts.scheme.lower() == "https"
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError(f"endpoint {text!r}: a gRPC endpoint has no path, only scheme://host:port")
        try:
            port = parts.port
        except ValueError as e:
            raise ValueError(f"endpoint {text!r}: {e}") from None
        if not parts.hostname or port is None:
            raise ValueError(f"endpoint {text!r} must name a host and a port, e.g. http://127.0.0.1:7000")
        if tls is not None and tls != scheme_tls:
            raise ValueError(f"endpoint {text!r} says {parts.scheme}:// but tls={tls} was given")
        hostname: str = parts.hostname
        shown_host = f"[{hostname}]" if ":" in hostname else hostname
        return Endpoint(
            url=f"{parts.scheme.lower()}://{shown_host}:{port}",
            target=f"{shown_host}:{port}",
            tls=scheme_tls,
            host=hostname,
        )
    use_tls = tls if tls is not None else tls_implied
    if "://" in text or lowered.startswith(("unix:", "unix-abstract:", "vsock:", "ipv4:", "ipv6:")):
        # dns:///host:port, unix:/path, ... : handed to gRPC as they are.
        host: str | None = None
        if lowered.startswith("dns:"):
            rest = text.split("///", 1)[-1] if "///" in text else text[4:]
            host = urlsplit(f"//{rest}").hostname
        return Endpoint(url=text, target=text, tls=use_tls, host=host)
    parts = urlsplit(f"//{text}")
    try:
        port = parts.port
    except ValueError as e:
        raise ValueError(f"endpoint {text!r}: {e}") from None
    if not parts.hostname or port is None:
        raise ValueError(f"endpoint {text!r} must be host:port, e.g. 127.0.0.1:7000")
    host = parts.hostname
    shown_host = f"[{host}]" if ":" in host else host
    scheme = "https" if use_tls else "http"
    return Endpoint(url=f"{scheme}://{shown_host}:{port}", target=f"{shown_host}:{port}", tls=use_tls, host=host)


def read_pem(source: PemSource | None, what: str) -> bytes | None:
    """PEM bytes from bytes, PEM text or a file path."""
    if source is None:
        return None
    if isinstance(source, bytes):
        return source
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return source.encode()
    path = Path(os.fspath(source))
    try:
        return path.read_bytes()
    except OSError as e:
        raise ValueError(f"{what}: cannot read {path}: {e.strerror or e}") from None


def new_request_id() -> str:
    """A request id (``x-request-id``): 16 random hex digits, the node's own form."""
    return secrets.token_hex(8)


# ------------------------------------------------------------------ auth


class _CallDetails(
    collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,  # type: ignore[misc]
):
    pass


class BearerToken(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[misc]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[misc]
    grpc.StreamStreamClientInterceptor,  # type: ignore[misc]
):
    """Adds ``authorization: Bearer <token>`` to every call of a channel."""

    def __init__(self, token: str) -> None:
        token = token.strip()
        if not token or any(c in token for c in "\r\n") or not token.isascii():
            raise ValueError("the token is empty or has characters a header cannot carry")
        self._header = ("authorization", f"Bearer {token}")

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    def _details(self, d: Any) -> _CallDetails:
        metadata = [m for m in (d.metadata or ()) if m[0].lower() != "authorization"]
        metadata.append(self._header)
        return _CallDetails(
            d.method,
            d.timeout,
            metadata,
            d.credentials,
            getattr(d, "wait_for_ready", None),
            getattr(d, "compression", None),
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(details), request_iterator)

    def intercept_stream_stream(self, continuation: Any, details: Any, request_iterator: Any) -> Any:
        return continuation(self._details(details), request_iterator)


# ------------------------------------------------------------------ channels


class Stubs(SimpleNamespace):
    """The generated stubs of one channel: ``records``, ``profiles``,
    ``explain``, ``admin``, ``events``, ``traits``, ``cluster``, ``privacy``,
    ``segments``, ``triggers`` and ``health`` (``grpc.health.v1``)."""

    records: Any
    profiles: Any
    explain: Any
    admin: Any
    events: Any
    traits: Any
    cluster: Any
    privacy: Any
    segments: Any
    triggers: Any
    health: Any


def make_stubs(channel: grpc.Channel) -> Stubs:
    # The generated *_pb2_grpc modules carry no type annotations.
    return Stubs(
        records=kindred_pb2_grpc.RecordsStub(channel),
        profiles=kindred_pb2_grpc.ProfilesStub(channel),
        explain=kindred_pb2_grpc.ExplainStub(channel),
        admin=kindred_pb2_grpc.AdminStub(channel),
        events=events_pb2_grpc.EventsStub(channel),
        traits=events_pb2_grpc.TraitsStub(channel),
        cluster=cluster_pb2_grpc.ClusterStub(channel),
        privacy=privacy_pb2_grpc.PrivacyStub(channel),
        segments=segments_pb2_grpc.SegmentsStub(channel),
        triggers=segments_pb2_grpc.TriggersStub(channel),
        health=health_pb2_grpc.HealthStub(channel),
    )


class Target:
    """An endpoint and its lazily created channel."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: grpc.ChannelCredentials | None,
        options: list[tuple[str, Any]],
        token: BearerToken | None,
    ) -> None:
        self.endpoint = endpoint
        self._credentials = credentials
        self._options = options
        self._token = token
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._stubs: Stubs | None = None
        self._closed = False

    @property
    def url(self) -> str:
        return self.endpoint.url

    def stubs(self) -> Stubs:
        with self._lock:
            if self._closed:
                raise ValueError("the client is closed")
            if self._stubs is None:
                if self.endpoint.tls:
                    assert self._credentials is not None
                    channel = grpc.secure_channel(self.endpoint.target, self._credentials, options=self._options)
                else:
                    channel = grpc.insecure_channel(self.endpoint.target, options=self._options)
                if self._token is not None:
                    channel = grpc.intercept_channel(channel, self._token)
                self._channel = channel
                self._stubs = make_stubs(channel)
            return self._stubs

    def channel(self) -> grpc.Channel:
        self.stubs()
        assert self._channel is not None
        return self._channel

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._channel is not None:
                self._channel.close()
            self._channel = None
            self._stubs = None

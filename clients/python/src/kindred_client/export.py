"""Server streams of exports: :class:`ExportStream`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import grpc

from .errors import from_rpc_error
from .v1 import kindred_pb2

if TYPE_CHECKING:
    import pandas

    from .client import KindredClient

__all__ = ["ExportStream"]

M = TypeVar("M", kindred_pb2.Assignment, kindred_pb2.Profile)

_END = object()


class ExportStream(Generic[M]):
    """An export as it streams from the node: iterate it for the messages
    (``Assignment`` or ``Profile``), or call :meth:`to_dataframe`.

    The stream opens on first use, with the client's retries and failover;
    once messages flow, a broken stream raises (an export cannot resume:
    start it again). Iterate it once. Use it as a context manager, or call
    :meth:`cancel`, to stop early.
    """

    def __init__(
        self,
        client: KindredClient,
        method: Callable[[Any], Any],
        request: kindred_pb2.ExportRequest,
        timeout: float | None,
        *,
        kind: Literal["assignments", "profiles"],
    ) -> None:
        self._client = client
        self._method = method
        self._request = request
        self._timeout = timeout
        self._kind = kind
        self._call: Any = None
        self._started = False
        self._endpoint: str | None = None

    def __enter__(self) -> ExportStream[M]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()

    def cancel(self) -> None:
        """Stops the stream (the node stops sending)."""
        if self._call is not None:
            self._call.cancel()

    def _open(self) -> Any:
        def first(call: Any) -> Any:
            self._call = call
            try:
                return next(call)
            except StopIteration:
                return _END

        head = self._client._call(self._method, self._request, idempotent=True, timeout=self._timeout, first=first)
        self._endpoint = self._client.current_endpoint
        return head

    def _messages(self) -> Iterator[Any]:
        if self._started:
            raise RuntimeError("an ExportStream can be iterated only once; call export_*() again")
        self._started = True
        head = self._open()
        if head is _END:
            return
        yield head
        try:
            yield from self._call
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.CANCELLED and self._call is not None and self._call.cancelled():
                return
            raise from_rpc_error(err, endpoint=self._endpoint) from err

    def __iter__(self) -> Iterator[M]:
        if self._kind == "assignments":
            for chunk in self._messages():
                yield from chunk.assignments
        else:
            yield from self._messages()

    def to_dataframe(self) -> pandas.DataFrame:
        """The whole export as a DataFrame (needs pandas):

        * assignments: columns ``source``, ``record_id``, ``entity_id``;
        * profiles: one row per customer, see
          :func:`kindred_client.dataframes.profiles_to_dataframe`.
        """
        from . import dataframes

        if self._kind == "assignments":
            return dataframes.assignments_to_dataframe(self)
        return dataframes.profiles_to_dataframe(self)

"""Retry policy: which failures are retried, how often, how long apart.

A call is retried when its failure is *transient* (``UNAVAILABLE``,
``ABORTED`` by default) **and** repeating it is safe: the call is
idempotent (every read; upserts, which are keyed by source and record id;
events, keyed by event id), or the request provably never reached a server
(the connection could not be made, or the node answered that it is still
starting). A retry goes to the next endpoint at once (failover); once
every endpoint has failed in turn, the client waits before the next round,
with exponential backoff and jitter. The call's deadline (``timeout``)
bounds everything: attempts and waits together.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass, field

import grpc

__all__ = ["RetryPolicy", "NO_RETRY", "DEFAULT_RETRYABLE_CODES"]

DEFAULT_RETRYABLE_CODES: frozenset[grpc.StatusCode] = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED})


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries transient failures.

    Attributes:
        max_attempts: attempts per call, the first included (1: no retry).
            Failovers to another endpoint count as attempts. A bulk stream
            that made progress before it broke resumes without using one.
        initial_backoff: seconds to wait after the first full round of
            endpoints failed.
        max_backoff: the longest wait between two rounds, in seconds.
        multiplier: each wait is this many times the previous one.
        jitter: each wait is multiplied by a random factor in
            ``[1 - jitter, 1 + jitter]`` so that many clients do not retry in
            step.
        retryable_codes: the gRPC codes treated as transient.
        attempt_timeout: if set, each attempt of an idempotent call gets at
            most this many seconds; an attempt that runs out is retried on
            the next endpoint (a node that accepts connections but does not
            answer). ``None``: an attempt may use the whole deadline.
    """

    max_attempts: int = 6
    initial_backoff: float = 0.2
    max_backoff: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.2
    retryable_codes: Collection[grpc.StatusCode] = field(default=DEFAULT_RETRYABLE_CODES)
    attempt_timeout: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_backoff < 0 or self.max_backoff < 0:
            raise ValueError("backoff times must not be negative")
        if self.multiplier < 1:
            raise ValueError(f"multiplier must be at least 1, got {self.multiplier}")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be within [0, 1], got {self.jitter}")
        if self.attempt_timeout is not None and self.attempt_timeout <= 0:
            raise ValueError(f"attempt_timeout must be positive, got {self.attempt_timeout}")
        object.__setattr__(self, "retryable_codes", frozenset(self.retryable_codes))

    def backoff(self, round_number: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before round ``round_number`` (1 = the first wait)."""
        base = min(self.max_backoff, self.initial_backoff * self.multiplier ** max(0, round_number - 1))
        r = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return max(0.0, base * r)

    def is_retryable(self, code: grpc.StatusCode | None) -> bool:
        return code is not None and code in self.retryable_codes


#: A policy that never retries (failover included).
NO_RETRY = RetryPolicy(max_attempts=1)

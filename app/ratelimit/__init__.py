"""Rate limits, with the ``limits`` library: failed authentications per client address,
requests per API key.

Counters live in memory (one process) by default, or in Redis when several processes
serve (``BINOME_RATE_LIMIT_STORAGE=redis://host:6379``): moving windows, so a burst at
the edge of a window is not allowed twice. Over a limit, the answer is a 429 problem with
``Retry-After``. If the counter store cannot be reached, requests are let through (and a
warning logged): an outage of the limiter must not become an outage of the service.
"""

import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import Settings
from app.errors import AppError

logger = logging.getLogger("binome.ratelimit")


class RateLimited(AppError):
    status, code, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, extra={"retry_after": retry_after})
        self.headers = {"Retry-After": str(retry_after)}


def parse_limit(text: str) -> RateLimitItem | None:
    """``"20/minute"``, ``"1000 per hour"``…; empty means no limit."""
    return parse(text) if text.strip() else None


@dataclass
class RateLimiter:
    failed_auth: RateLimitItem | None
    per_key: RateLimitItem | None
    storage: Storage
    prefix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> "RateLimiter":
        storage = storage_from_string(settings.rate_limit_storage)
        if not isinstance(storage, Storage):  # an async:// store: not for sync routes
            raise ValueError(f"{settings.rate_limit_storage}: use a synchronous storage")
        return cls(
            failed_auth=parse_limit(settings.rate_limit_failed_auth),
            per_key=parse_limit(settings.rate_limit_per_key),
            storage=storage,
            prefix=settings.rate_limit_key_prefix,
        )

    @property
    def _strategy(self) -> MovingWindowRateLimiter:
        return MovingWindowRateLimiter(self.storage)

    def refuse_locked_out(self, address: str) -> None:
        """429 before any key is checked when ``address`` failed too often lately."""
        limit = self.failed_auth
        if limit is not None and not self._safely(
            lambda: self._strategy.test(limit, self.prefix, "auth", address)
        ):
            raise self._refusal(
                limit,
                ("auth", address),
                "too many failed authentications from this address",
            )

    def count_failure(self, address: str) -> None:
        limit = self.failed_auth
        if limit is not None:
            self._safely(lambda: self._strategy.hit(limit, self.prefix, "auth", address))

    def count_request(self, key_id: uuid.UUID) -> None:
        """One more request with this key; 429 beyond the per-key limit."""
        limit = self.per_key
        if limit is not None and not self._safely(
            lambda: self._strategy.hit(limit, self.prefix, "key", str(key_id))
        ):
            raise self._refusal(limit, ("key", str(key_id)), "too many requests with this key")

    def _refusal(self, limit: RateLimitItem, ids: tuple[str, str], why: str) -> RateLimited:
        try:
            reset = self._strategy.get_window_stats(limit, self.prefix, *ids).reset_time
            retry_after = max(1, math.ceil(reset - time.time()))
        except Exception:
            retry_after = limit.get_expiry()
        return RateLimited(f"{why} (at most {limit}); retry in {retry_after} s", retry_after)

    @staticmethod
    def _safely(call: Callable[[], bool]) -> bool:
        try:
            return call()
        except Exception as exc:
            logger.warning("rate limit store unavailable, request let through: %r", exc)
            return True

"""The events an endpoint may subscribe to."""

from enum import StrEnum


class EventType(StrEnum):
    RUN_SUCCEEDED = "run.succeeded"
    RUN_FAILED = "run.failed"
    RUN_CANCELLED = "run.cancelled"
    MATCH_PROPOSED = "match.proposed"
    MATCH_ACCEPTED = "match.accepted"
    MATCH_STARTED = "match.started"
    MATCH_CLOSED = "match.closed"
    MATCH_DECLINED = "match.declined"
    MATCH_EXPIRED = "match.expired"
    MATCH_SUPERSEDED = "match.superseded"
    IMPORT_FINISHED = "import.finished"
    ERASURE_DONE = "erasure.done"
    PING = "ping"
    """Sent on request (``POST /v1/webhooks/{id}/ping``) to test an endpoint; never
    subscribed to."""


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Not delivered yet: due at ``next_attempt_at`` (a retry after a failed attempt)."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    """Every attempt failed; ``POST …/redeliver`` sends it again."""

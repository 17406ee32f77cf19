"""How a run executes: options passed explicitly to whichever process runs it."""

import dataclasses

from app.config import get_settings


@dataclasses.dataclass(frozen=True)
class ExecutionOptions:
    """Everything a run needs besides its id, passed explicitly to pool processes."""

    database_url: str
    heartbeat_seconds: float = 5.0
    stale_seconds: float = 120.0
    proposal_expiry_days: int = 14
    hold_file: str = ""

    @classmethod
    def from_settings(cls) -> "ExecutionOptions":
        settings = get_settings()
        return cls(
            database_url=settings.database_url,
            heartbeat_seconds=settings.run_heartbeat_seconds,
            stale_seconds=settings.run_stale_seconds,
            proposal_expiry_days=settings.proposal_expiry_days,
            hold_file=settings.run_hold_file,
        )


class Cancelled(Exception):
    """The run was cancelled while executing; nothing is written."""

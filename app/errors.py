"""Typed application errors rendered as RFC 9457 ``application/problem+json``.

Services raise these; one handler in ``app.main`` renders every error, so clients
meet a single error format whatever went wrong (validation, scope, state, routing).
"""

from typing import Any

PROBLEM_BASE = "https://binome.example.org/problems/"


class AppError(Exception):
    status: int = 500
    code: str = "internal-error"
    title: str = "Internal error"

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}

    def to_problem(self) -> dict[str, Any]:
        return problem(self.status, self.code, self.title, self.detail, **self.extra)


class Unauthenticated(AppError):
    status, code, title = 401, "unauthenticated", "Missing or invalid API key"


class Forbidden(AppError):
    status, code, title = 403, "forbidden", "Not allowed for this role"


class NotFound(AppError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, code, title = 409, "conflict", "Conflict with the current state"


class PayloadTooLarge(AppError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(AppError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(AppError):
    """422 carrying the offending fields: ``[{"field": ..., "message": ...}]``."""

    status, code, title = 422, "validation-error", "Invalid input"

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None) -> None:
        super().__init__(detail or _summarise(errors), extra={"errors": errors})
        self.errors = errors


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}])


def _summarise(errors: list[dict[str, Any]]) -> str:
    if len(errors) == 1:
        return f"{errors[0]['field']}: {errors[0]['message']}"
    return f"{len(errors)} invalid fields"


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }

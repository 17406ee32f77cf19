"""Errors raised on invalid input (the service turns them into HTTP 422)."""


class ProblemError(ValueError):
    """Invalid matching input. ``field`` is a dotted path such as ``mentee 'a'.lat``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

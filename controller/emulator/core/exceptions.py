"""Typed API errors and the one place that renders them as the platform's ErrorBody
(docs/genesys-api.md#errors): {message, code, status, contextId, details, errors}.

Each service's `exceptions.py` subclasses these with its own messages; models raise them and the
middleware answers them, so no handler builds an error body.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    """An error the platform answers with an ErrorBody of this class's status and code."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad.request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status, code = 400, "bad.request"


class InvalidValue(ApiError):
    status, code = 400, "invalid.value"


class InvalidDate(ApiError):
    status, code = 400, "invalid.date"


class NotFound(ApiError):
    status, code = 404, "not.found"

    def __init__(self, message: str = "The requested resource was not found.") -> None:
        super().__init__(message)


class Conflict(ApiError):
    status, code = 409, "conflict"


def error_body(status: int, code: str, message: str, context_id: str) -> dict[str, Any]:
    return {
        "message": message,
        "code": code,
        "status": status,
        "contextId": context_id,
        "details": [],
        "errors": [],
    }


def error_json(error: ApiError, context_id: str) -> dict[str, Any]:
    return error_body(error.status, error.code, error.message, context_id)

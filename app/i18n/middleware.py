"""Translate the messages of error documents and import reports on their way out.

A pure ASGI middleware: a response is buffered only when it is a problem document or an
import report (both small and bounded), so streamed exports pass through untouched.
"""

import json
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.i18n.catalogue import translate
from app.i18n.negotiation import DEFAULT_LOCALE, negotiate

PROBLEM_JSON = "application/problem+json"
TRANSLATED_KEYS = ("title", "detail", "message")


def translate_document(document: Any, locale: str) -> Any:
    """The messages of a problem document or an import report in ``locale``: ``title``,
    ``detail`` and every ``message`` of its ``errors``; codes and values are kept."""
    if not isinstance(document, dict):
        return document
    for key in TRANSLATED_KEYS:
        if isinstance(document.get(key), str):
            document[key] = translate(document[key], locale)
    for error in document.get("errors") or ():
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            error["message"] = translate(error["message"], locale)
    return document


def _is_import_report(path: str) -> bool:
    return "/import" in path


class TranslationMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        locale = negotiate(Headers(scope=scope).get("accept-language"))
        if locale == DEFAULT_LOCALE:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_translated(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                media_type = Headers(raw=message["headers"]).get("content-type", "")
                media_type = media_type.split(";")[0].strip()
                if media_type == PROBLEM_JSON or (
                    media_type == "application/json" and _is_import_report(scope["path"])
                ):
                    start = message
                    return
                MutableHeaders(raw=message["headers"]).append("Vary", "Accept-Language")
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            try:
                document = translate_document(json.loads(body), locale)
                body = json.dumps(document, ensure_ascii=False).encode()
            except ValueError:
                pass  # not JSON after all: sent as it is
            headers = MutableHeaders(raw=start["headers"])
            headers["content-length"] = str(len(body))
            headers["content-language"] = locale
            headers.append("Vary", "Accept-Language")
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_translated)

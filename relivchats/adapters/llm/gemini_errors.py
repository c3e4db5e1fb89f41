"""The SDK's and httpx's failures, translated into our retryable / permanent error types."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from google.genai import errors

from relivchats.adapters.llm.base import LlmError, LlmUnavailable

try:  # the SDK uses httpx2 instead of httpx when it is installed
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[Exception], ...] = (httpx.TransportError, httpx2.TransportError)
except ImportError:  # pragma: no cover - depends on the environment
    _TRANSPORT_ERRORS = (httpx.TransportError,)

RETRYABLE_STATUS = (408, 429, 500, 502, 503, 504)


@contextmanager
def provider_errors() -> Iterator[None]:
    """Provider trouble (retryable statuses, timeouts, connections) becomes `LlmUnavailable`;
    any other refusal `LlmError`."""
    try:
        yield
    except errors.APIError as exc:
        if exc.code in RETRYABLE_STATUS:
            raise LlmUnavailable(f"Gemini answered {exc.code}: {exc.status}") from exc
        raise LlmError(f"Gemini refused the request ({exc.code}: {exc.status})") from exc
    except _TRANSPORT_ERRORS as exc:
        raise LlmUnavailable(f"Gemini unreachable: {type(exc).__name__}") from exc

"""The exception tree. Only `init()` argument checks and `log*()` validation raise into user code;
everything that happens on the background threads is reported with a warning instead."""

from __future__ import annotations


class ExptLoggerError(Exception):
    """Base class of every error this package raises."""


class TransportError(ExptLoggerError):
    """A request could not be completed (network error or unexpected status)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class AuthenticationError(TransportError):
    """The server answered 401: the API key is missing or wrong."""


class ExptLoggerWarning(UserWarning):
    """Warnings about data that could not be sent yet or was converted."""

"""The errors crucible-datasets raises, all rooted in :mod:`crucible.core`'s hierarchy."""

from __future__ import annotations

from crucible.core import DatasetError

__all__ = ["ChecksumMismatchError", "DownloadError", "UnknownDatasetError"]


class UnknownDatasetError(DatasetError, LookupError):
    """A dataset, split or subject name is not known; the message lists the valid names."""


class ChecksumMismatchError(DatasetError):
    """Data does not match its pinned SHA-256 digest.

    Attributes:
        expected: the pinned digest.
        actual: the digest of the data that was read or downloaded.
    """

    def __init__(self, message: str, *, expected: str, actual: str) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_checksum_error, (str(self), self.expected, self.actual))


def _rebuild_checksum_error(message: str, expected: str, actual: str) -> ChecksumMismatchError:
    return ChecksumMismatchError(message, expected=expected, actual=actual)


class DownloadError(DatasetError):
    """A file could not be downloaded (HTTP error, truncated body, timeout)."""

"""The project's exceptions: one root, a few children a caller can act on differently.

Messages are written for a person: they say what failed and, where it helps, what to try.
"""
from __future__ import annotations


class TrialsError(Exception):
    """Root of every error this package raises on purpose."""


class BadInput(TrialsError, ValueError):
    """The user's own input can't be used (unknown place, malformed NCT id, bad date...)."""


class ApiUnreachable(TrialsError):
    """ClinicalTrials.gov could not be reached or kept failing (network, 403, 429/5xx after retries)."""

    unresponsive = False  # no connection could be opened, or the API stopped answering: fall back at once


class QueryRefused(TrialsError):
    """The API answered 400: the query itself was refused. Carries the API's own explanation."""

    def __init__(self, api_text: str, url: str = ""):
        self.api_text = api_text
        self.url = url
        super().__init__(f"ClinicalTrials.gov refused the search: {api_text or '(no explanation given)'}")


class StudyNotFound(TrialsError):
    """The API answered 404 for one study."""

    def __init__(self, nct_id: str):
        self.nct_id = nct_id
        super().__init__(f"ClinicalTrials.gov has no study {nct_id}. Check the NCT number.")


class BadResponse(TrialsError):
    """The API answered, but not with what it promises (HTML page, truncated JSON, wrong shape)."""


class StoreError(TrialsError):
    """The study store can't be opened or used (unreachable database, unknown or newer schema)."""


class SyncBusy(TrialsError):
    """Another sync holds the store's sync lock; this one did nothing."""


class IncompleteList(BadResponse):
    """The API's pages ended before its own count, or repeated a page token: studies are missing."""

"""Records that could not be fully read: logged once per study, counted, and fatal in strict mode.

A reader of study text (classification, eligibility) must not let one malformed record stop a
whole list from being shown, so it catches everything and answers a default. That default must
not be silent: `record()` logs the study id and the exception once per study at WARNING, counts
the study, and, in strict mode (TRIALS_STRICT=1, which the test suite sets), re-raises so a bug
under a "never raises" promise fails its test instead of hiding.

Callers that know which study they are reading say so with `reading(nct_id)`; `record()` picks
that id up, so a text-only function (eligibility_flags(text)) still logs the study it was reading.
"""
from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from typing import Iterator

log = logging.getLogger(__name__)

STRICT_ENV = "TRIALS_STRICT"

_current: contextvars.ContextVar[str] = contextvars.ContextVar("trials_current_study", default="")
_failed: dict[str, str] = {}  # study id -> the first exception seen for it (insertion-ordered)


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "").strip() not in ("", "0")


@contextlib.contextmanager
def reading(nct_id: str) -> Iterator[None]:
    """Within this block, failures are reported against study `nct_id`."""
    token = _current.set(nct_id or "")
    try:
        yield
    finally:
        _current.reset(token)


def record(exc: BaseException, where: str, nct_id: str = "") -> None:
    """Log and count a caught exception against a study; re-raise it in strict mode.

    Call from inside the `except` block (a bare `raise` then keeps the original traceback)."""
    study = nct_id or _current.get() or "(unknown study)"
    if study not in _failed:
        _failed[study] = f"{type(exc).__name__}: {exc}"
        log.warning("%s could not be fully read (%s: %s: %s)", study, where, type(exc).__name__, exc)
    if strict():
        raise exc


def count() -> int:
    """How many studies could not be fully read since the last reset()."""
    return len(_failed)


def failed_ids() -> tuple[str, ...]:
    return tuple(_failed)


def reset() -> None:
    _failed.clear()


def summary() -> str:
    """The line a person sees, e.g. "2 records could not be fully read (NCT01, NCT02)"; "" if none."""
    if not _failed:
        return ""
    ids = ", ".join(list(_failed)[:5]) + (", …" if len(_failed) > 5 else "")
    noun = "record" if len(_failed) == 1 else "records"
    return f"{len(_failed)} {noun} could not be fully read ({ids}); see the log for details"

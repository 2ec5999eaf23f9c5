"""The one base class of every error eocic raises on purpose.

Each module keeps its own named error (``TableValidationError``, ``ScenarioError``,
``EurostatFormatError`` ...), documented where it is raised, and derives it from
:class:`EocicError` *and* from the built-in it always was (``ValueError``, ``RuntimeError``,
``FileNotFoundError``), so callers that catch the built-in keep working. Code that wraps an
eocic call catches :class:`EocicError` (or a narrower subclass), never a bare built-in: a
bug in eocic (a ``KeyError``, a ``TypeError``) must surface as a traceback, not as a
documented failure.
"""

from __future__ import annotations


class EocicError(Exception):
    """Base class of the errors eocic raises to report bad input, a missing prerequisite or
    a failed stage; the message names the file, row, code or parameter and the fix."""

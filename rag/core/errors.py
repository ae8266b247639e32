"""Errors a user can act on: every message says what went wrong and how to fix it."""


class RagError(Exception):
    """Base class for errors shown to users; the message includes the fix."""


class NoIndexError(RagError):
    """The index folder has no documents yet."""


class EmbedderMismatchError(RagError):
    """The index was built with a different embedding model."""


class IndexBusyError(RagError):
    """Another process is writing to the index (its write lock did not come free in time)."""


class QuestionError(RagError):
    """The question is empty or too long."""


class ModelFileError(RagError):
    """A model file is missing, incomplete or fails its hash check."""


class ModelServerError(RagError):
    """An OpenAI-compatible model server could not be reached or answered badly."""


class StoreError(RagError):
    """The vector store could not be opened or reached."""


class IndexDamagedError(RagError):
    """A part of the index (manifest, vector store file, BM25 folder) is missing or damaged."""


class StoreDamagedError(StoreError, IndexDamagedError):
    """The vector store on disk cannot be opened, or is gone while the manifest lists chunks."""


class CollectionMismatchError(RagError):
    """The settings name another Chroma collection than the one the index was built in."""


class ReadOnlyIndexError(RagError):
    """A command that writes was given an index it cannot write to."""


class MissingDependencyError(RagError):
    """An optional package is needed for the chosen setting."""


def missing(package: str, extra: str, feature: str) -> MissingDependencyError:
    """Build the error for an optional import that failed.

    Args:
        package: The module that could not be imported.
        extra: The pip extra of this project that installs it.
        feature: What the user asked for that needs it.

    """
    return MissingDependencyError(
        f"{feature} needs the '{package}' package. Install it with: pip install -e '.[{extra}]'"
    )

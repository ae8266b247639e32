"""One typed settings tree: defaults, then a TOML file, then ``RAG_`` environment variables."""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from rag.core.answer_settings import AnswerSettings
from rag.core.serve_settings import ServeSettings
from rag.core.setting_groups import (
    BundledModel,
    ChunkSettings,
    EmbedSettings,
    ModelSettings,
    OcrSettings,
    RetrieveSettings,
    StoreSettings,
    UiSettings,
)

# The TOML file of the settings being built in this thread (a context variable, not the process
# environment: threads loading settings at once each read their own file).
_TOML_FILE: ContextVar[Path | None] = ContextVar("rag_toml_file", default=None)

# The sections live in sections.py; callers import them from here, with the tree.
__all__ = [
    "AnswerSettings",
    "BundledModel",
    "ChunkSettings",
    "EmbedSettings",
    "ModelSettings",
    "OcrSettings",
    "RetrieveSettings",
    "ServeSettings",
    "Settings",
    "StoreSettings",
    "UiSettings",
    "load_settings",
]


class Settings(BaseSettings):
    """All settings of rag. Env vars: ``RAG_MODEL__BACKEND=openai``; TOML: ``rag.toml``."""

    model_config = SettingsConfigDict(
        env_prefix="RAG_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    index_dir: Path = Field(Path("index"), description="Folder of the persisted index.")
    data_dir: Path = Field(Path("data"), description="Folder for uploaded documents.")
    embed: EmbedSettings = Field(default_factory=EmbedSettings, description="Embedding model.")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Chunking.")
    ocr: OcrSettings = Field(default_factory=OcrSettings, description="OCR of scanned PDF pages.")
    store: StoreSettings = Field(default_factory=StoreSettings, description="Vector store.")
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings, description="Retrieval.")
    model: ModelSettings = Field(default_factory=ModelSettings, description="Chat model.")
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description="Answer checks.")
    ui: UiSettings = Field(default_factory=UiSettings, description="Chat UI.")
    serve: ServeSettings = Field(default_factory=ServeSettings, description="HTTP API (rag serve).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order: explicit arguments, environment, then the TOML file (``load_settings``'s, else rag.toml)."""
        toml = _TOML_FILE.get() or _default_toml()
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml))


def _default_toml() -> Path:
    """Return the TOML file named by the user's RAG_CONFIG variable, else rag.toml (read, never written)."""
    return Path(os.environ.get("RAG_CONFIG", "rag.toml"))


def load_settings(config: str | Path | None = None, **overrides: object) -> Settings:
    """Load settings, optionally from a given TOML file; errors say which value to fix.

    Safe to call from many threads at once: the file is handed to the TOML source through a context
    variable of the calling thread, and the process environment is only read.

    Args:
        config: A TOML file whose values sit under the environment variables.
        **overrides: Top-level fields that win over everything else.

    Returns:
        The frozen settings object.

    Raises:
        RagError: The file is missing or not TOML, or a value is invalid.
    """
    from rag.core.errors import RagError

    path = Path(config) if config is not None else _default_toml()
    if (config is not None or "RAG_CONFIG" in os.environ) and not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise RagError(f"Settings file {path} {what}. Pass an existing .toml file (--config or RAG_CONFIG).")
    token = _TOML_FILE.set(path)
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise RagError(
            f"Invalid settings ({problems}). Fix the RAG_* environment variable or {path}."
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise RagError(f"{path} is not valid TOML ({exc}). Fix the file.") from None
    finally:
        _TOML_FILE.reset(token)

"""The settings of ``rag serve`` (the HTTP API): where it listens and the keys its clients send."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


class ServeSettings(BaseModel):
    """The HTTP API started by ``rag serve``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field("127.0.0.1", description="Address to listen on; anything but loopback needs api_keys.")
    port: int = Field(8765, ge=1, le=65535, description="Port of the HTTP API.")
    api_keys: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        (),
        description="Keys clients send as 'Authorization: Bearer KEY' (comma-separated in "
        "RAG_SERVE__API_KEYS). When set, every route but /health needs one; required beyond loopback.",
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            value = [k.strip() for k in value.split(",")]
        if isinstance(value, list | tuple):
            value = [k for k in value if not isinstance(k, str) or k]
            short = [k for k in value if len(k.get_secret_value() if isinstance(k, SecretStr) else k) < 16]
            if short:
                raise ValueError(
                    "each API key needs at least 16 characters; make one with: "
                    "python -c 'import secrets; print(secrets.token_urlsafe(24))'"
                )
        return value

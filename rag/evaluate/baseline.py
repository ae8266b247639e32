"""The LlamaIndex tutorial pipeline, as a baseline: VectorStoreIndex defaults, no hybrid, no checks.

It runs with the same embedder and chat model as ours, so a report shows what our pipeline adds.
LlamaIndex objects are converted to our Answer and Passage types here, at the edge.
"""

from __future__ import annotations

import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

from rag.core.types import Answer, Chunk, GoldItem, Passage, Timings
from rag.evaluate.metrics import looks_like_refusal
from rag.models.chat_protocol import ChatModel
from rag.models.embedder import Embedder


def _adapters(embedder: Embedder, model: ChatModel, n_ctx: int, max_tokens: int) -> tuple[Any, Any]:
    """Wrap our embedder and chat model in LlamaIndex's embedding and LLM interfaces."""
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.llms import CompletionResponse, CustomLLM, LLMMetadata

    class Embedding(BaseEmbedding):
        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed([text])[0]

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return embedder.embed([query])[0]

    class LLM(CustomLLM):
        usage: tuple[int, int] = (0, 0)

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=n_ctx, num_output=max_tokens, model_name=model.name)

        def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
            text = "".join(r.delta or "" for r in self.stream_complete(prompt))
            return CompletionResponse(text=text)

        def stream_complete(
            self, prompt: str, formatted: bool = False, **kw: Any
        ) -> Generator[CompletionResponse, None, None]:
            text = ""
            for d in model.stream([{"role": "user", "content": prompt}]):
                if d.prompt_tokens or d.completion_tokens:
                    self.usage = (d.prompt_tokens, d.completion_tokens)
                text += d.text
                yield CompletionResponse(text=text, delta=d.text)

    return Embedding(model_name=embedder.name, embed_batch_size=32), LLM()


class LlamaIndexBaseline:
    """Documents read by SimpleDirectoryReader, VectorStoreIndex with default chunking, top-2 answers."""

    def __init__(
        self, docs: list[Path], cache: Path, embedder: Embedder, model: ChatModel, n_ctx: int, max_tokens: int
    ) -> None:
        """Build (or load from ``cache``) the tutorial index over ``docs``."""
        from llama_index.core import (
            Settings,
            SimpleDirectoryReader,
            StorageContext,
            VectorStoreIndex,
            load_index_from_storage,
        )

        self._embed, self._llm = _adapters(embedder, model, n_ctx, max_tokens)
        Settings.llm, Settings.embed_model = self._llm, self._embed
        if (cache / "docstore.json").exists():
            self._index = load_index_from_storage(StorageContext.from_defaults(persist_dir=str(cache)))
        else:
            documents = SimpleDirectoryReader(input_files=[str(p) for p in docs]).load_data()
            self._index = VectorStoreIndex.from_documents(documents)
            self._index.storage_context.persist(persist_dir=str(cache))
        self._engine = self._index.as_query_engine(streaming=True)

    def ranking(self, question: str, item: GoldItem | None = None, k: int = 10) -> list[Passage]:
        """Return the top-k passages of the tutorial retriever."""
        nodes = self._index.as_retriever(similarity_top_k=k).retrieve(question)
        return [_passage(n, rank) for rank, n in enumerate(nodes, 1)]

    def answer(self, question: str, item: GoldItem | None = None) -> Answer:
        """Answer with the tutorial query engine (it knows no as-of date); refusals count as abstaining."""
        start = time.perf_counter()
        from llama_index.core.base.response.schema import StreamingResponse

        response = self._engine.query(question)
        assert isinstance(response, StreamingResponse), "the engine was built with streaming=True"
        retrieved = time.perf_counter()
        text, first = "", 0.0
        for piece in response.response_gen or ():
            first = first or time.perf_counter() - retrieved
            text += piece
        end = time.perf_counter()
        prompt_tokens, completion_tokens = self._llm.usage
        passages = tuple(_passage(n, rank) for rank, n in enumerate(response.source_nodes, 1))
        refused = looks_like_refusal(text)
        return Answer(
            question=question,
            text=text.strip(),
            citations=(),
            passages=passages,
            abstained=refused,
            timings=Timings(
                retrieve=retrieved - start,
                first_token=first,
                generate=end - retrieved,
                total=end - start,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            ),
            draft=text,
            abstain_reason="the model refused" if refused else "",
        )


def _passage(node: Any, rank: int) -> Passage:
    """Convert a LlamaIndex NodeWithScore into our Passage."""
    inner = node.node
    meta = inner.metadata or {}
    chunk = Chunk(
        id=inner.node_id,
        doc_id=str(inner.ref_doc_id or ""),
        start=int(inner.start_char_idx or 0),
        end=int(inner.end_char_idx or 0),
        text=inner.get_content(),
        title=str(meta.get("file_name", "")),
        path=str(meta.get("file_path", "")),
        date=None,
    )
    score = float(node.score or 0.0)
    return Passage(chunk, score, rank, "dense", dense_score=score)

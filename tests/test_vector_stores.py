"""Every VectorStore passes the same contract: the in-memory fake, embedded Chroma and `chroma run`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import chroma_server
from fakes import MemoryStore
from vector_store_contract import VectorStoreContract

from rag.core.settings import StoreSettings
from rag.index.vector_store import ChromaStore, VectorStore


@pytest.mark.fast
class TestMemoryStore(VectorStoreContract):
    @pytest.fixture
    def store(self) -> VectorStore:
        return MemoryStore()


class TestEmbeddedChroma(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        s = ChromaStore(StoreSettings(), tmp_path, "test-embedder", 4)
        yield s
        s.close()


class TestChromaServer(VectorStoreContract):
    @pytest.fixture(scope="class")
    def server(self, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
        with chroma_server(tmp_path_factory.mktemp("chroma-server")) as (port, _):
            yield port

    @pytest.fixture
    def store(self, server: int) -> Iterator[VectorStore]:
        name = f"contract-{uuid.uuid4().hex[:12]}"  # a collection per test on the one server
        s = ChromaStore(
            StoreSettings(backend="server", port=server, collection=name), Path("/nonexistent"), "t", 4
        )
        yield s
        s.clear()
        s.close()

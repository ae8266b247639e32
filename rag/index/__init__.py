"""The index on disk: vector store with its Chroma rows, BM25, the manifest and the handle."""

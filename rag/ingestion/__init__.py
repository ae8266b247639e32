"""Files into the index: loaders, chunking, the ingest plan and writer, `rag check`, uploads."""

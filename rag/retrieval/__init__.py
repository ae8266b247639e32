"""Finding passages for a question: hybrid retrieval, scopes and the dates a question names."""

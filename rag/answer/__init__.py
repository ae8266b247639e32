"""One answer step by step: the prompt, the query, the draft."""

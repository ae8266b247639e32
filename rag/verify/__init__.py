"""The answer checker: citations, support, injection flags and the abstention decision."""

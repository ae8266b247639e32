"""The ground floor: shared types, errors, settings, the stage clock and text helpers."""

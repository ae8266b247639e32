"""The answer's confidence: a logistic model over its signals, fitted on gold-labelled news drafts.

``confidence`` is the estimated probability that the answer shown is right: the share of answers
given that confidence, on held-out gold questions, that were right. It is fitted by
``bench/calibrate.py`` (which documents the sets it learns from and reports on others) and shipped as
``confidence_model.json`` beside this module: weights over standardised signals, nothing pickled,
no scikit-learn needed to use it. A missing signal (a backend without token probabilities) takes the
mean seen in fitting, so it moves the confidence neither way.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from rag.core.errors import RagError

PACKAGED = Path(__file__).with_name("confidence_model.json")
# Words for a person, by the confidence they stand for (checked on held-out sets, see eval/README.md).
_WORDS = ((0.85, "very likely right"), (0.7, "likely right"), (0.5, "uncertain"), (0.0, "unlikely"))


@dataclass(frozen=True)
class ConfidenceModel:
    """A logistic model: confidence = sigmoid(bias + sum of weight * (signal - mean) / scale)."""

    names: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float  # the default answer.min_confidence: chosen for a precision target when fitted
    about: str = ""  # what it was fitted on, and how it held on other sets
    reader: str = ""  # the model whose drafts it was fitted on (ModelSettings.reader()); "" = any

    @classmethod
    def load(cls, path: Path = PACKAGED) -> ConfidenceModel:
        """Read a fitted model file.

        Raises:
            RagError: The file is missing or not a model file (the message names the refit command).

        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                tuple(data["names"]),
                tuple(float(x) for x in data["means"]),
                tuple(float(x) for x in data["scales"]),
                tuple(float(x) for x in data["weights"]),
                float(data["bias"]),
                float(data["threshold"]),
                str(data.get("about", "")),
                str(data.get("reader", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise RagError(
                f"Cannot read the confidence model {path} ({exc}). Point RAG_ANSWER__CONFIDENCE_MODEL at a "
                "file written by bench/calibrate.py, or unset it to use the packaged one."
            ) from None

    def to_dict(self) -> dict[str, object]:
        """Return the file's JSON shape."""
        keys = ("names", "means", "scales", "weights", "bias", "threshold", "about", "reader")
        return {k: list(v) if isinstance(v := getattr(self, k), tuple) else v for k in keys}

    def predict(self, signals: Mapping[str, float]) -> float:
        """Return the probability that an answer with these signals is right."""
        z = self.bias
        for name, mean, scale, weight in zip(self.names, self.means, self.scales, self.weights, strict=True):
            z += weight * (signals.get(name, mean) - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def confidence_line(confidence: float) -> str:
    """Return the confidence for people: "0.86 (very likely right)"."""
    return f"{confidence:.2f} ({confidence_words(confidence)})"


def confidence_words(confidence: float | None) -> str:
    """Return the confidence in words a person understands ("likely right"), "" when unknown."""
    if confidence is None:
        return ""
    return next(word for floor, word in _WORDS if confidence >= floor)

"""The question reader's decision: a multinomial logistic regression over the features `question_features` draws
from a message (jieba words, character pairs, the keyword rules' verdicts, a few flags), trained on the labelled
tuning sets only and shipped as `question_model.txt` (regenerate: `python benchmarks/train_question_model.py`).

Pure Python, no dependency: the weights are a dict from feature to one weight per class; scoring a message is a sum
over its few dozen features, then a softmax. `train` is deterministic (fixed example order, no randomness).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

__all__ = ["Model", "load_model", "train"]

MODEL_FILE = Path(__file__).with_name("question_model.txt")
NONE = "none"


class Model:
    def __init__(
        self, classes: Sequence[str], weights: dict[str, list[float]], asked_words: frozenset[str] | None = None
    ) -> None:
        self.classes = tuple(classes)
        self.weights = weights
        # The words (`w:` features) met in training in a line that asks the bot something (not `none`): a word seen
        # only in chatter (`榴莲` in "孙子要吃榴莲") is still new where a product would be (`榴莲还有没有`).
        self.asked_words = asked_words if asked_words is not None else frozenset(f for f in weights if f[:2] == "w:")
        self._zero = [0.0] * len(self.classes)

    def probabilities(self, features: Sequence[str]) -> dict[str, float]:
        get = self.weights.get
        scores = list(get("", self._zero))  # the bias
        for f in features:
            w = get(f)
            if w is not None:
                scores = [a + b for a, b in zip(scores, w, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        total = sum(exps)
        return {c: e / total for c, e in zip(self.classes, exps, strict=True)}

    def dump(self, path: Path, header: str = "") -> None:
        lines = [f"# {line}" for line in header.splitlines()]
        lines.append("classes\t" + " ".join(self.classes))
        lines.append("asked\t" + " ".join(sorted(self.asked_words)))
        for feature in sorted(self.weights):
            w = self.weights[feature]
            if any(abs(v) >= 5e-4 for v in w):
                lines.append(feature + "\t" + " ".join(f"{v:.3f}".rstrip("0").rstrip(".") or "0" for v in w))
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _parse(text: str) -> Model:
    classes: list[str] = []
    weights: dict[str, list[float]] = {}
    asked: frozenset[str] | None = None
    for line in text.split("\n"):
        if not line or line.startswith("# "):
            continue
        feature, _, values = line.partition("\t")
        if feature == "classes":
            classes = values.split()
        elif feature == "asked":
            asked = frozenset(values.split())
        else:
            weights[feature] = [float(v) for v in values.split()]
    return Model(classes, weights, asked)


@cache
def load_model(path: Path = MODEL_FILE) -> Model:
    return _parse(path.read_text(encoding="utf-8"))


def train(
    examples: Sequence[tuple[Sequence[str], str]],
    classes: Sequence[str],
    *,
    epochs: int = 40,
    rate: float = 0.3,
    l2: float = 1e-4,
) -> Model:
    """Softmax regression by AdaGrad over the examples in their given order, epoch after epoch (deterministic)."""
    index = {c: k for k, c in enumerate(classes)}
    n = len(classes)
    weights: dict[str, list[float]] = {"": [0.0] * n}
    squares: dict[str, list[float]] = {"": [1e-6] * n}
    asked = frozenset(f for features, label in examples if label != NONE for f in features if f[:2] == "w:")
    model = Model(classes, weights, asked)
    for _epoch in range(epochs):
        for features, label in examples:
            active = ["", *dict.fromkeys(features)]
            for f in active:
                if f not in weights:
                    weights[f] = [0.0] * n
                    squares[f] = [1e-6] * n
            probs = model.probabilities(active[1:])
            target = index[label]
            for k, c in enumerate(classes):
                g = probs[c] - (1.0 if k == target else 0.0)
                if g == 0.0:
                    continue
                for f in active:
                    w = weights[f]
                    grad = g + l2 * w[k]
                    sq = squares[f]
                    sq[k] += grad * grad
                    w[k] -= rate * grad / math.sqrt(sq[k])
    return model

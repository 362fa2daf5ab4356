"""The question reader's trained model: it knows every intent, training is deterministic, the shipped file loads."""

from __future__ import annotations

from pathlib import Path

from bot.parsing.question import INTENTS
from bot.parsing.question_model import MODEL_FILE, NONE, Model, _parse, load_model, train

EXAMPLES = [
    (["w:多少钱", "r:price", "f:ask"], "price"),
    (["w:还有", "r:stock", "f:ask"], "stock"),
    (["w:谢谢"], NONE),
    (["w:几斤", "r:spec", "f:ask"], "spec"),
    (["w:多少钱", "f:ask", "f:elsewhere"], NONE),
]
CLASSES = (NONE, "price", "stock", "spec")


def test_the_shipped_model_decides_between_every_intent_and_none() -> None:
    model = load_model()
    assert set(model.classes) == {NONE, *INTENTS}
    assert all(len(w) == len(model.classes) for w in model.weights.values())
    assert MODEL_FILE.read_text(encoding="utf-8").startswith("# ")  # says how to regenerate it


def test_training_is_deterministic_and_survives_the_file(tmp_path: Path) -> None:
    first, second = train(EXAMPLES, CLASSES, epochs=10), train(EXAMPLES, CLASSES, epochs=10)
    assert first.weights == second.weights
    first.dump(tmp_path / "m.txt", "test")
    loaded = _parse((tmp_path / "m.txt").read_text(encoding="utf-8"))
    probs = loaded.probabilities(["w:多少钱", "r:price", "f:ask"])
    assert max(probs, key=probs.__getitem__) == "price"
    assert loaded.probabilities(["w:谢谢"])[NONE] > 0.5


def test_an_unseen_feature_leaves_the_prior() -> None:
    model = Model(CLASSES, {"": [1.0, 0.0, 0.0, 0.0]})
    assert model.probabilities(["w:从没见过"]) == model.probabilities([])

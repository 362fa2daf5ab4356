"""Question understanding against the labelled evaluation set: per-intent precision and recall, the answer rate on
chatter, product accuracy, and the per-message cost of the question path after warm-up.

    python benchmarks/questions_eval.py [--config C] [--data TSV] [--errors] [--json]

The set (`benchmarks/data/questions_eval.tsv`: text, intent or `none`, product named or empty) was written from how
neighbours talk in these groups before the rules were tuned; it is not a training set.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.config import load_config
from bot.parsing.chain import is_chain
from bot.parsing.products import ProductMatcher
from bot.parsing.question import INTENTS, QuestionReader

HERE = Path(__file__).resolve().parent
TARGETS = {"chatter_answer_rate_max": 0.03, "intent_accuracy_min": 0.90, "product_accuracy_min": 0.90, "ms_max": 1.0}
# Lines that are not in the set: they load jieba and fill the caches a running bot has already filled.
WARM_UP = ["草莓还有吗?", "几点自提", "谢谢团长", "在哪拿", "什么时候截单", "鸡蛋碎了", "能开发票吗", "[强]"]


@dataclass(frozen=True)
class Case:
    text: str
    intent: str  # an intent name or "none"
    product: str | None


def load_cases(path: Path) -> list[Case]:
    cases = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip() or line.startswith("# "):
            continue
        text, intent, product = line.split("\t")
        if intent != "none" and intent not in INTENTS:
            raise ValueError(f"{path}: unknown intent {intent!r} in {line!r}")
        cases.append(Case(text, intent, product or None))
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(HERE / "data" / "questions_config.yaml"))
    parser.add_argument("--data", default=str(HERE / "data" / "questions_eval.tsv"))
    parser.add_argument("--errors", action="store_true", help="list every wrong line")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object (last line)")
    args = parser.parse_args(argv)

    config = load_config(args.config)
    cases = load_cases(Path(args.data))
    with tempfile.TemporaryDirectory() as cache:
        matcher = ProductMatcher([(p.name, tuple(p.aliases)) for p in config.catalogue], cache_dir=Path(cache))
        t0 = time.perf_counter()  # building the reader loads jieba (the cost of a bot's start, not of a message)
        reader = QuestionReader(matcher, config.faq, config.bot.name)
        reader.warm_up()
        for text in WARM_UP:
            reader.understand(text)
        warm_ms = (time.perf_counter() - t0) * 1000

        # The question path of the handler: the chain test, then understanding. Timed per message on the first
        # pass over the set (its lines are new to the caches), then on a second pass (repeated wording).
        leaders = tuple(config.groups[0].leaders) if config.groups else ()

        def path(text: str) -> object:
            return None if is_chain(text) else reader.understand(text, leaders=leaders)

        first: list[float] = []
        results = []
        for case in cases:
            t = time.perf_counter()
            path(case.text)
            first.append((time.perf_counter() - t) * 1000)
            results.append(reader.understand(case.text, leaders=leaders))
        second: list[float] = []
        for case in cases:
            t = time.perf_counter()
            path(case.text)
            second.append((time.perf_counter() - t) * 1000)

    labels = [*INTENTS, "none"]
    predicted = [r.intent if r.answerable and r.intent else "none" for r in results]
    per_intent = {}
    for label in labels:
        tp = sum(1 for c, p in zip(cases, predicted, strict=True) if c.intent == label and p == label)
        fp = sum(1 for c, p in zip(cases, predicted, strict=True) if c.intent != label and p == label)
        fn = sum(1 for c, p in zip(cases, predicted, strict=True) if c.intent == label and p != label)
        per_intent[label] = {
            "n": tp + fn,
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
        }
    questions = [(c, p, r) for c, p, r in zip(cases, predicted, results, strict=True) if c.intent != "none"]
    chatter = [(c, p) for c, p in zip(cases, predicted, strict=True) if c.intent == "none"]
    named = [(c, r) for c, _, r in questions if c.product]
    intent_accuracy = sum(1 for c, p, _ in questions if p == c.intent) / len(questions)
    chatter_rate = sum(1 for _, p in chatter if p != "none") / len(chatter)
    product_accuracy = sum(1 for c, r in named if r.product == c.product) / len(named) if named else 1.0
    spurious_product = sum(1 for c, _, r in questions if not c.product and r.product) / len(questions)
    steady = sorted(first)
    report = {
        "lines": len(cases),
        "questions": len(questions),
        "chatter": len(chatter),
        "intent_accuracy": round(intent_accuracy, 4),
        "chatter_answer_rate": round(chatter_rate, 4),
        "product_accuracy": round(product_accuracy, 4),
        "products_named": len(named),
        "spurious_product_rate": round(spurious_product, 4),
        "per_intent": {
            k: {"n": v["n"], "precision": round(v["precision"], 4), "recall": round(v["recall"], 4)}
            for k, v in per_intent.items()
        },
        "warm_up_ms": round(warm_ms, 1),
        "ms_per_message_first_pass": {
            "mean": round(statistics.fmean(first), 4),
            "p50": round(statistics.median(first), 4),
            "p95": round(steady[int(0.95 * (len(steady) - 1))], 4),
            "max": round(max(first), 4),
        },
        "ms_per_message_repeat_pass": {"mean": round(statistics.fmean(second), 4), "max": round(max(second), 4)},
    }
    met = {
        "chatter_silence": chatter_rate <= TARGETS["chatter_answer_rate_max"],
        "intent_accuracy": intent_accuracy >= TARGETS["intent_accuracy_min"],
        "product_accuracy": product_accuracy >= TARGETS["product_accuracy_min"],
        "speed": statistics.fmean(first) <= TARGETS["ms_max"],
    }
    report["targets_met"] = met

    print(f"question evaluation: {len(cases)} lines ({len(questions)} questions, {len(chatter)} chatter)")
    print(f"{'intent':<14}{'n':>5}{'precision':>11}{'recall':>9}")
    for label in labels:
        v = per_intent[label]
        print(f"{label:<14}{v['n']:>5}{v['precision']:>11.3f}{v['recall']:>9.3f}")
    print(f"right intent on questions : {intent_accuracy:.1%}  (target ≥ 90%)")
    print(f"answered chatter          : {chatter_rate:.1%}  (target ≤ 3%; silent on {1 - chatter_rate:.1%})")
    print(f"right product (named)     : {product_accuracy:.1%} of {len(named)}  (target ≥ 90%)")
    print(f"product where none named  : {spurious_product:.1%} of questions")
    fp = report["ms_per_message_first_pass"]
    print(
        f"ms per message after warm-up ({warm_ms:.0f} ms): mean {fp['mean']:.3f}, p50 {fp['p50']:.3f}, "
        f"p95 {fp['p95']:.3f}, max {fp['max']:.3f}; repeated lines mean "
        f"{report['ms_per_message_repeat_pass']['mean']:.3f}  (target ≤ 1 ms)"
    )
    print("targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in met.items()))
    if args.errors:
        for c, p, r in zip(cases, predicted, results, strict=True):
            wrong_product = c.intent != "none" and c.product and r.product != c.product
            if p != c.intent or wrong_product:
                print(f"  {c.text!r}: want {c.intent}/{c.product} got {p}/{r.product} ({r.intent} {r.confidence})")
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

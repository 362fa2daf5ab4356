"""Train the question reader's model on the TUNING part only and write bot/parsing/question_model.txt.

    python benchmarks/train_question_model.py            # train on the tuning part, write the model
    python benchmarks/train_question_model.py --cv 5     # k-fold cross-validation on the tuning part, write nothing

The holdout part (questions_holdout.tsv) is never read here. Deterministic: the same sets give the same file.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks.questions_eval import DATA, LABELS, PARTS, Case, load_cases
from bot.config import load_config
from bot.parsing.products import ProductMatcher
from bot.parsing.question import QuestionReader
from bot.parsing.question_decide import ANSWER_THRESHOLD, decide, features
from bot.parsing.question_model import MODEL_FILE, NONE, Model, train

CLASSES = (NONE, *LABELS)
EPOCHS, RATE, L2 = 20, 0.3, 1e-4


def examples(reader: QuestionReader, cases: Sequence[Case], leaders: Sequence[str]) -> list[tuple[list[str], str]]:
    out = []
    for case in cases:
        reading = reader.read(case.text, leaders=leaders)
        if reading is not None:
            out.append((features(reading, reader.segment), case.intent))
    return out


def fit(data: Sequence[tuple[list[str], str]], epochs: int = EPOCHS, rate: float = RATE, l2: float = L2) -> Model:
    return train(data, CLASSES, epochs=epochs, rate=rate, l2=l2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cv", type=int, default=0, help="k-fold cross-validation on the tuning part instead")
    parser.add_argument("--errors", action="store_true", help="with --cv: list the tuning lines it got wrong")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--rate", type=float, default=RATE)
    parser.add_argument("--l2", type=float, default=L2)
    args = parser.parse_args(argv)
    cases = [c for f in PARTS["tuning"] for c in load_cases(f)]
    config = load_config(DATA / "questions_config.yaml")
    leaders = tuple(config.groups[0].leaders)
    with tempfile.TemporaryDirectory() as cache:
        matcher = ProductMatcher([(p.name, tuple(p.aliases)) for p in config.catalogue], cache_dir=Path(cache))
        titles = [b.title for b in config.buys]
        reader = QuestionReader(matcher, config.faq, config.bot.name, titles=titles, model=False)
        if args.cv:
            right = total = silent = chatter = 0
            sweep: list[tuple[str, str | None, float]] = []
            first: list[bool] = []  # the original sets' lines (questions_eval.tsv, questions_tuning.tsv)
            n_first = sum(len(load_cases(f)) for f in PARTS["tuning"][:2])
            fallback: list[tuple[str, str]] = []
            for fold_no in range(args.cv):
                train_part = [c for k, c in enumerate(cases) if k % args.cv != fold_no]
                model = fit(examples(reader, train_part, leaders), args.epochs, args.rate, args.l2)
                for k_case, case in [(k, c) for k, c in enumerate(cases) if k % args.cv == fold_no]:
                    first.append(k_case < n_first)
                    reading = reader.read(case.text, leaders=leaders)
                    u = decide(model, reading, reader.segment) if reading else None
                    got = u.intent if u is not None and u.answerable and u.intent else NONE
                    sweep.append((case.intent, u.intent if u else None, u.confidence if u else 0.0))
                    ru = reading.rules if reading else None
                    rule_got = ru.intent if ru is not None and ru.answerable and ru.intent else NONE
                    fallback.append((case.intent, got if got != NONE else rule_got))
                    if args.errors and got != case.intent:
                        print(
                            f"  {case.text!r}: want {case.intent} got {got} ({u.intent if u else None} "
                            f"{u.confidence if u else 0})"
                        )
                    if case.intent == NONE:
                        chatter += 1
                        silent += got == NONE
                    else:
                        total += 1
                        right += got == case.intent
            print(f"{args.cv}-fold on the tuning part: intent {right / total:.1%}, silent {silent / chatter:.1%}")

            def show(name: str, said: Sequence[tuple[str, str | None]]) -> None:
                q = [w == g for w, g in said if w != NONE]
                c = [g == NONE for w, g in said if w == NONE]
                print(f"  {name}: intent {sum(q) / len(q):.1%}, silent {sum(c) / len(c):.1%}")

            show("model, else the rules", fallback)
            show(
                "first sets only",
                [(w, g if cf >= ANSWER_THRESHOLD else NONE) for (w, g, cf), f in zip(sweep, first, strict=True) if f],
            )
            show("first sets, model else rules", [x for x, f in zip(fallback, first, strict=True) if f])
            for threshold in (0.4, 0.45, 0.5, 0.55, 0.6, 0.65):
                said = [(want, got if conf >= threshold else NONE) for want, got, conf in sweep]
                q = [w == g for w, g in said if w != NONE]
                c = [g == NONE for w, g in said if w == NONE]
                print(f"  at {threshold}: intent {sum(q) / len(q):.1%}, silent {sum(c) / len(c):.1%}")
            return 0
        model = fit(examples(reader, cases, leaders))
    header = (
        "The question reader's weights (bot/parsing/question_model.py); generated, do not edit.\n"
        f"Regenerate: python benchmarks/train_question_model.py (tuning part only; epochs {EPOCHS}, rate {RATE}, "
        f"l2 {L2}; threshold {ANSWER_THRESHOLD})."
    )
    model.dump(MODEL_FILE, header)
    print(f"wrote {MODEL_FILE} ({len(model.weights)} features, {len(cases)} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

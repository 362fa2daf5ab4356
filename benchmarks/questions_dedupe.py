"""Drop the lines of a new labelled questions file whose text equals (spaces aside, case folded) a text of any set in
benchmarks/data/, or an earlier line of the same file. Prints only counts and the new file's own dropped lines, never
another set's lines (the untuned parts must stay unread).

    python benchmarks/questions_dedupe.py NEW.tsv
"""

from __future__ import annotations

import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def key(text: str) -> str:
    return "".join(text.split()).lower()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print(__doc__)
        return 2
    target = Path(args[0]).resolve()
    others = {
        key(line.split("\t")[0])
        for f in DATA.glob("questions_*.tsv")
        if f.resolve() != target
        for line in f.read_text(encoding="utf-8").split("\n")
        if "\t" in line and not line.startswith("# ")
    }
    kept, dropped, seen = [], [], set()
    for line in target.read_text(encoding="utf-8").split("\n"):
        if "\t" in line and not line.startswith("# "):
            k = key(line.split("\t")[0])
            if k in others or k in seen:
                dropped.append(line)
                continue
            seen.add(k)
        kept.append(line)
    target.write_text("\n".join(kept), encoding="utf-8")
    print(f"kept {len(seen)} data lines, dropped {len(dropped)}:")
    for line in dropped:
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

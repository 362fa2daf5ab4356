"""接龙 vectors through `tuanbot parse --json`: how many entries of the final tally are read exactly, per part and kind.

    python benchmarks/chain_eval.py [--errors] [--json]

The cases are `tests/fixtures/chains/voices_tuning.json`, `voices_holdout.json` (never tune the engine on the holdout)
and the peers' vectors in `tests/fixtures/chains/peers/`; their README says where each came from. Each case is run
in-process through the CLI's contract (`bot.cli.main(["parse", "--json", "--config", …, files…])`), with a config
holding the case's catalogue (and, when the case names one, a started buy so a bare quantity means its product).

An entry is read exactly when the engine gives the same participant label (compared without spaces, without the
separators neighbours put between name and address, and without a dot closing it: `Laine.`), the same status
(active or cancelled) and the same items (product, quantity, unit; a missing unit counts as the catalogue's unit for
that product). Remarks are not compared.
`entries_exact` = exact entries / (expected entries + entries the engine invented); a case passes when all its
entries are exact and nothing was invented.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.cli import main as cli_main  # noqa: E402

ROOT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "chains"
PARTS = {"tuning": ROOT / "voices_tuning.json", "holdout": ROOT / "voices_holdout.json"}
TARGET = 0.97
# Between a name and an address neighbours put spaces, commas or nothing: the label is the same person either way.
_LABEL_NOISE = re.compile(r"[\s,，、;；:：/|｜]+")

EntryKey = tuple[str, str, tuple[tuple[str, float, str], ...]]


@dataclass
class Case:
    id: str
    kind: str
    catalogue: list[dict[str, Any]]
    copies: list[dict[str, str | None]]
    expect: list[dict[str, Any]]
    buy: dict[str, str] | None = None
    source: str = ""
    note: str = ""


@dataclass
class Outcome:
    case: Case
    got: list[dict[str, Any]]
    exact: int  # expected entries the engine read exactly
    invented: int  # engine entries matching no expected entry
    missed: list[EntryKey] = field(default_factory=list)
    extra: list[EntryKey] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.missed and not self.extra


def catalogues() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = json.loads((ROOT / "catalogues.json").read_text(encoding="utf-8"))
    return data


def _case(raw: dict[str, Any], shared: dict[str, list[dict[str, Any]]]) -> Case:
    catalogue = raw.get("catalogue", [])
    if isinstance(catalogue, str):
        catalogue = shared[catalogue]
    return Case(
        id=raw["id"],
        kind=raw["kind"],
        catalogue=catalogue,
        copies=raw["copies"],
        expect=raw["expect"],
        buy=raw.get("buy"),
        source=raw.get("source", ""),
        note=raw.get("note", ""),
    )


def load_part(path: Path) -> list[Case]:
    shared = catalogues()
    return [_case(raw, shared) for raw in json.loads(path.read_text(encoding="utf-8"))]


def load_peers() -> list[Case]:
    """The peers' cases that translate into a tally of ours (`"compare": false` ones are kept as record only)."""
    shared = catalogues()
    cases = []
    for path in sorted((ROOT / "peers").glob("*.json")):
        for raw in json.loads(path.read_text(encoding="utf-8")):
            if raw.get("compare", True):
                cases.append(_case(raw, shared))
    return cases


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def config_text(case: Case) -> str:
    lines = ["catalogue:"]
    for p in case.catalogue:
        aliases = ", ".join(_yaml_str(a) for a in p.get("aliases", []))
        name, unit = _yaml_str(p["name"]), _yaml_str(p["unit"])
        lines.append(f"  - {{name: {name}, aliases: [{aliases}], unit: {unit}, price: 1}}")  # the price is not read
    if not case.catalogue:
        lines[0] = "catalogue: []"
    if case.buy:
        lines += [
            "groups:",
            "  - name: 测试群",
            "    leaders: [团长]",
            "buys:",
            "  - id: vector-buy",
            f"    title: {_yaml_str(case.buy['title'])}",
            "    groups: [测试群]",
            "    items:",
            f"      - {{product: {_yaml_str(case.buy['product'])}}}",
            "    opens: 2020-01-01 09:00",
            "    cutoff: 2020-01-02 20:00",
        ]
    return "\n".join(lines) + "\n"


def run_engine(case: Case) -> list[dict[str, Any]]:
    """Every entry of every chain `tuanbot parse --json` makes of the case's copies, in arrival order."""
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.yaml"
        config.write_text(config_text(case), encoding="utf-8")
        files = []
        for i, copy in enumerate(case.copies, 1):
            path = Path(tmp) / f"{i:03}.txt"
            head = f"@sender: {copy['sender']}\n" if copy.get("sender") else ""
            path.write_text(head + (copy["text"] or ""), encoding="utf-8")
            files.append(str(path))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli_main(["parse", "--json", "--config", str(config), *files])
        if code != 0:
            raise RuntimeError(f"{case.id}: tuanbot parse exited {code}")
    doc = json.loads(out.getvalue())
    return [entry for chain in doc["chains"] for entry in chain["entries"]]


def label(who: str | None) -> str:
    return _LABEL_NOISE.sub("", unicodedata.normalize("NFKC", who or "")).strip(".。")


def _units(case: Case) -> dict[str, str]:
    return {p["name"]: p["unit"] for p in case.catalogue}


def entry_key(entry: dict[str, Any], units: dict[str, str], *, engine: bool) -> EntryKey:
    if engine:
        status = "cancelled" if entry["cancelled"] else "active"
    else:
        status = entry.get("status", "active")
    items = []
    for it in entry.get("items", []):
        product = it.get("product") or ""
        unit = it.get("unit") or units.get(product) or ""
        items.append((product, float(it["qty"]), unit))
    return label(entry.get("who")), status, tuple(sorted(items))


def evaluate(case: Case) -> Outcome:
    got = run_engine(case)
    units = _units(case)
    want = Counter(entry_key(e, units, engine=False) for e in case.expect)
    have = Counter(entry_key(e, units, engine=True) for e in got)
    both = want & have
    return Outcome(
        case=case,
        got=got,
        exact=sum(both.values()),
        invented=sum((have - want).values()),
        missed=sorted((want - have).elements()),
        extra=sorted((have - want).elements()),
    )


def summary(outcomes: list[Outcome]) -> dict[str, Any]:
    expected = sum(len(o.case.expect) for o in outcomes)
    exact = sum(o.exact for o in outcomes)
    invented = sum(o.invented for o in outcomes)
    return {
        "cases": len(outcomes),
        "cases_passed": sum(o.passed for o in outcomes),
        "entries": expected,
        "entries_exact": round(exact / (expected + invented), 4) if expected + invented else 1.0,
    }


def report(outcomes: list[Outcome]) -> dict[str, Any]:
    kinds = sorted({o.case.kind for o in outcomes})
    return {
        **summary(outcomes),
        "by_kind": {k: summary([o for o in outcomes if o.case.kind == k]) for k in kinds},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--errors", action="store_true", help="show every case not read exactly")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object (last line)")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {"target": TARGET}
    parts = {name: load_part(path) for name, path in PARTS.items()}
    if any((ROOT / "peers").glob("*.json")):
        parts["peers"] = load_peers()
    for name, cases in parts.items():
        outcomes = [evaluate(c) for c in cases]
        results[name] = report(outcomes)
        r = results[name]
        exact, passed = f"{r['entries_exact']:.1%} of {r['entries']}", f"{r['cases_passed']}/{r['cases']}"
        print(f"{name}: entries read exactly {exact} ({passed} cases)")
        for kind, k in r["by_kind"].items():
            print(f"  {kind:<18} {k['entries_exact']:>6.1%}  ({k['cases_passed']}/{k['cases']} cases)")
        if args.errors:
            for o in outcomes:
                if not o.passed:
                    print(f"  ✗ {o.case.id}: missed {o.missed} extra {o.extra}")
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

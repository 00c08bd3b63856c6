"""Write reports/evaluation.md: real postings first, the written sets beside them, then the lever study."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline import config

SET_TITLES = {
    "postings": "job postings, written for the project",
    "plans": "plans and memos, written for the project",
    "hard": "department word points the other way, written for the project",
    "neutral": "no orientation, written for the project",
    "realistic": "postings, plans, memos and first-person statements in the register of real ones, written for the project",
    "sealed": "sealed set: written by an author who saw no training or evaluation data",
}
# The targets on real postings (high + medium confidence).
TARGETS = {"macro_f1": 0.88, "title_f1": 0.80, "abstain_oriented": 0.10, "abstain_neutral": 0.50}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:.1%}"


def real_section(name: str, f: dict[str, Any]) -> str:
    """Markdown for one set of real documents."""
    if "orientation" not in f:
        return f"### `{name}`: {f['n']} documents, none of them a sales/marketing document with high or medium confidence\n"
    o = f["orientation"]
    t = f.get("by_title", {})
    lines = [
        f"### `{name}`: {f['n']} documents, {f['counted']} counted (sales/marketing, high or medium confidence)",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| orientation macro-F1 | **{o['macro_f1']:.3f}** | ≥ {TARGETS['macro_f1']} |",
        f"| macro-F1 by job title ({t.get('n', 0)} sales/marketing titles) | **{t['macro_f1']:.3f}** | ≥ {TARGETS['title_f1']} |"
        if t
        else "| macro-F1 by job title | – | |",
        f"| insufficient signal, sales/marketing documents | **{_pct(o['insufficient_signal'])}** | "
        f"≤ {TARGETS['abstain_oriented']:.0%} |",
        f"| insufficient signal, neutral documents ({f.get('neutral', {}).get('n', 0)}) | "
        f"**{_pct(f.get('neutral', {}).get('insufficient_signal'))}** | ≥ {TARGETS['abstain_neutral']:.0%} |",
        f"| macro-F1 on the documents that get a verdict | {o['macro_f1_answered']:.3f} | |"
        if o["macro_f1_answered"] is not None
        else "| macro-F1 on the documents that get a verdict | – | |",
        f"| predicted marketing (gold) | {_pct(o['predicted_marketing'])} ({_pct(o['gold_marketing'])}) | |",
        f"| Brier score | {o['brier']:.3f} | |",
    ]
    if t:
        ceiling = t["gold_text_macro_f1"]
        lines.append(f"| a perfect reader of the text, scored against the titles | {ceiling:.3f} | (the by-title ceiling) |")
    if f.get("single_character_evidence") is not None:
        lines.append(f"| single-character terms among the evidence shown | {_pct(f['single_character_evidence'])} | |")
    if "title_disagrees" in f:
        td = f["title_disagrees"]
        lines.append(f"| accuracy where the title names the other department ({td['n']}) | {_pct(td['accuracy'])} | |")
    conf = o["confusion"]
    lines += [
        "",
        "Confusion (rows: gold; columns: the side of the threshold, verdict or not)",
        "",
        "| | sales | marketing |",
        "|---|---|---|",
        *[f"| {g} | {row['sales']} | {row['marketing']} |" for g, row in conf.items()],
        "",
        "Verdicts by gold label (all confidences)",
        "",
        "| gold | verdicts |",
        "|---|---|",
        *[f"| {g} | {', '.join(f'{v} {n}' for v, n in vs.items())} |" for g, vs in f["verdicts_by_label"].items()],
        "",
        "Calibration: observed share of marketing per band of P(marketing)",
        "",
        "| P(marketing) | n | mean P | share marketing |",
        "|---|---|---|---|",
        *[
            f"| {r['bin']} | {r['n']} | {r['mean_probability'] if r['n'] else '–'} | {r['marketing_share'] if r['n'] else '–'} |"
            for r in o["reliability"]
        ],
    ]
    if f.get("by_group"):
        lines += ["", "By source site", "", "| site | n | macro-F1 | accuracy | insufficient signal |", "|---|---|---|---|---|"]
        lines += [
            f"| {g} | {p['n']} | {p['macro_f1']:.3f} | {p['accuracy']:.3f} | {_pct(p['insufficient_signal'])} |"
            for g, p in f["by_group"].items()
        ]
    lines += [
        "",
        "The ten most confident errors, by id (texts are not reproduced here)",
        "",
        "| id | gold | confidence | P(marketing) | sales-side terms | marketing-side terms |",
        "|---|---|---|---|---|---|",
        *[
            f"| {e['id']} | {e['gold']} | {e['confidence'] or '–'} | {e['marketing_probability']:.3f} | "
            f"{' '.join(e['evidence']['sales'])} | {' '.join(e['evidence']['marketing'])} |"
            for e in f["worst_errors"]
        ],
    ]
    return "\n".join(lines) + "\n"


def written_table(per_set: dict[str, dict[str, Any]]) -> str:
    """One table row per written set."""
    rows = [
        "| set | documents | macro-F1 | insufficient signal (sales/marketing) | insufficient signal (no orientation) |",
        "|---|---|---|---|---|",
    ]
    for name, f in per_set.items():
        o = f.get("orientation")
        n = f.get("neutral")
        rows.append(
            f"| `{name}`: {SET_TITLES.get(name, name)} | {f['n']} | {o['macro_f1']:.3f} | {_pct(o['insufficient_signal'])} | "
            f"{_pct(n['insufficient_signal']) if n else '–'} |"
            if o
            else f"| `{name}`: {SET_TITLES.get(name, name)} | {f['n']} | – | – | {_pct(n['insufficient_signal']) if n else '–'} |"
        )
    for name, f in per_set.items():
        if f.get("by_group"):
            rows += ["", f"`{name}` by kind of text", "", "| kind | n | macro-F1 | insufficient signal |", "|---|---|---|---|"]
            rows += [
                f"| {g} | {p['n']} | {p['macro_f1']:.3f} | {_pct(p['insufficient_signal'])} |" for g, p in f["by_group"].items()
            ]
    return "\n".join(rows) + "\n"


def levers_table(rows: Sequence[dict[str, Any]]) -> str:
    """The lever study as a table: real postings first, the written sets beside."""
    real = "real_f1" in rows[0]
    head = "| variant | training docs | "
    head += "realdev macro-F1 | by title | insufficient: s/m / neutral | " if real else ""
    head += "postings | plans | hard | realistic | sealed | decision |"
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [f"**{r['key']}** {r['description']}", str(r["n_train"])]
        if real:
            cells += [
                f"{r['real_f1']:.3f}",
                f"{r['title_f1']:.3f}",
                f"{_pct(r['abstain_oriented'])} / {_pct(r['abstain_neutral'])}",
            ]
        cells += [f"{r[n]:.3f}" if n in r else "–" for n in ("postings", "plans", "hard", "realistic", "sealed")]
        cells.append(r["decision"] or "–")
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def render(
    meta: dict[str, Any],
    per_set: dict[str, dict[str, Any]],
    levers: Sequence[dict[str, Any]] | None,
    curve: Sequence[dict[str, Any]] | None,
    bands: Sequence[dict[str, Any]] | None = None,
) -> str:
    """The whole report."""
    cv = meta["cv"]
    v = meta["verdict"]
    real = {k: f for k, f in per_set.items() if k not in config.EVAL_FILES}
    written = {k: f for k, f in per_set.items() if k in config.EVAL_FILES}
    sources = "\n".join(
        f"- `{s['file']}`: {s['count']} documents ({', '.join(f'{k} {n}' for k, n in s['labels'].items())}), "
        f"sha256 `{s['sha256'][:16]}…`"
        for s in meta["sources"]
    )
    parts = [
        "# Evaluation of the shipped model",
        "",
        "Written by `make evaluate` (`python -m research.evaluation`); do not edit by hand.",
        "Real postings decide; the sets written for the project are sanity checks beside them.",
        "",
        "## Real postings",
        "",
    ]
    if real:
        parts += [
            "Labelled real documents, never trained on and never copied here (the default set is ../shared/realdev/: "
            "job postings written by employers, labelled as docs/labelling.md says).",
            "",
            *[real_section(Path(k).name if "/" in k else k, f) for k, f in real.items()],
        ]
    else:
        parts += ["Not measured: ../shared/realdev/ was not beside this checkout when the report was written.", ""]
    if written:
        parts += ["## Written sets (sanity checks)", "", written_table(written)]
    parts += [
        "## The articles: leave-one-article-out",
        "",
        f"{cv['scheme']}: accuracy {cv['accuracy']:.3f}, macro-F1 **{cv['macro_f1']:.3f}**.",
        "",
        "## The model",
        "",
        f"Training sources (no evaluation set, and no real posting, is among them):\n\n{sources}",
        "",
        f"Setting: `{json.dumps(meta['params'])}`; department words masked: "
        f"{'、'.join(meta['department_words_masked']) or 'none'}.",
        "",
        f"Verdict settings (chosen on real postings by the lever study): side at P(marketing) {v['threshold']}; bands "
        f"{v['bands']}; `insufficient signal` when the gate gives below {v['gate']} or fewer than "
        f"{v['min_signal_terms']} occurrences of terms with |weight| ≥ {v['signal_weight']}.",
        "",
        "## Lever study",
        "",
    ]
    if levers:
        parts += [
            "Each variant moves one lever of the shipped design (S), is trained in memory on the project's own data, and "
            "is scored under the shipped verdict settings. Macro-F1 at P(marketing) 0.5.",
            "",
            levers_table(levers),
        ]
    else:
        parts += ["Not run (run without --no-levers).", ""]
    if bands:
        parts += [
            "Verdict bands on real postings (the shipped design; counted documents): how many get a `strongly` verdict and "
            "how many of those are right, the same for the plain verdicts, and the share called `balanced`.",
            "",
            "| bands | strongly | right | sales-/marketing-oriented | right | balanced |",
            "|---|---|---|---|---|---|",
            *[
                f"| {r['bands']}{' (shipped)' if r['bands'] == meta['verdict']['bands'] else ''} | {_pct(r['strongly'])} | "
                f"{_pct(r['strongly_right'])} | {_pct(r['leaning'])} | {_pct(r['leaning_right'])} | {_pct(r['balanced'])} |"
                for r in bands
            ],
            "",
        ]
    parts += ["## Adapting with your own labels: learning curve on real postings", ""]
    if curve:
        parts += [
            "5-fold over the real postings: the shipped design alone, then with n labelled postings from the other folds "
            "added to its training data, scored on the held-out fold (high + medium confidence). Trained in memory; "
            "nothing trained on real postings is saved.",
            "",
            "| postings added | macro-F1 | scored |",
            "|---|---|---|",
            *[f"| {r['added']} | {r['macro_f1']:.3f} | {r['n']} |" for r in curve],
            "",
        ]
    else:
        parts += ["Not run (needs the lever study and ../shared/realdev/).", ""]
    return "\n".join(parts).rstrip() + "\n"


def write_report(
    path: Path, clf: Any, per_set: dict[str, dict[str, Any]], with_levers: bool, progress: Callable[[str], None]
) -> None:
    """Write the Markdown report atomically."""
    from pipeline.files import atomic_write

    levers = curve = bands = None
    if with_levers:
        from pipeline.training.realeval import read_documents
        from research import levers as study

        realdev = study.realdev_path()
        real = read_documents(realdev, label_field="orientation")[0] if realdev else []
        levers = study.run(real, progress)
        if real:
            progress("verdict bands")
            bands = study.band_study(real)
            progress("learning curve")
            curve = study.learning_curve(real)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, render(clf.metadata, per_set, levers, curve, bands).encode("utf-8"))

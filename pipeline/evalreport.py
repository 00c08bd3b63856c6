"""Write reports/evaluation.md: the shipped model's figures per evaluation set, and the lever study."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pipeline import config

SET_TITLES = {
    "postings": "(a) job postings",
    "plans": "(b) plans and memos",
    "hard": "(c) hard cases: department word points the other way",
    "neutral": "(d) no orientation",
    "sealed": "sealed held-out set: written by an author who saw no training or evaluation data; never used to choose anything",
}


def _pct(x: float) -> str:
    return f"{x:.1%}"


def set_section(name: str, figures: dict[str, Any]) -> str:
    """Markdown for one evaluation set."""
    lines = [f"### {SET_TITLES.get(name, name)} — `{name}`, {figures['n']} documents", ""]
    lines.append(f"- insufficient signal: {_pct(figures['insufficient_signal_rate'])}")
    lines.append("- verdicts: " + ", ".join(f"{v} {n}" for v, n in figures["verdicts"].items()))
    if "macro_f1" not in figures:
        return "\n".join(lines) + "\n"
    pc = figures["per_class"]
    lines += [
        f"- accuracy **{figures['accuracy']:.3f}**, macro-F1 **{figures['macro_f1']:.3f}**, Brier {figures['brier']:.3f}",
        f"- long documents: the whole-document label agrees with the majority of its own sentences in "
        f"{_pct(figures['sentence_agreement'])} of documents",
        "",
        "| class | precision | recall | F1 | n |",
        "|---|---|---|---|---|",
        *[f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |" for k, v in pc.items()],
        "",
        "Confusion (rows: gold, columns: predicted)",
        "",
        "| | sales | marketing |",
        "|---|---|---|",
        *[f"| {g} | {row['sales']} | {row['marketing']} |" for g, row in figures["confusion"].items()],
        "",
        "Reliability (calibration)",
        "",
        "| P(marketing) | n | mean P | share marketing |",
        "|---|---|---|---|",
        *[
            f"| {r['bin']} | {r['n']} | {r['mean_probability'] if r['n'] else '–'} | {r['marketing_share'] if r['n'] else '–'} |"
            for r in figures["reliability"]
        ],
        "",
        "Worst errors (most confident wrong answers) with their strongest evidence",
        "",
        "| id | gold | P(marketing) | sales-side terms | marketing-side terms |",
        "|---|---|---|---|---|",
        *[
            f"| {e['id']} | {e['gold']} | {e['marketing_probability']:.3f} | {' '.join(e['evidence']['sales'])} | "
            f"{' '.join(e['evidence']['marketing'])} |"
            for e in figures["worst_errors"]
        ],
    ]
    if not figures["worst_errors"]:
        lines.append("| – | | | | |")
    return "\n".join(lines) + "\n"


def levers_section(rows: Sequence[dict[str, Any]], grid_rows: Sequence[dict[str, Any]], calibration: dict[str, float]) -> str:
    """Markdown for the lever study."""
    out = [
        "| variant | training docs | article CV macro-F1 | (a) F1 @0.5 | (b) F1 @0.5 | (c) F1 @0.5 | Brier (a–c) | "
        "(a)/(b)/(c) F1 with chosen threshold | insufficient: (d) / (a–c) | decision |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        f = r["macro_f1_at_0.5"]
        chosen = "–"
        abstain = "–"
        if "headline" in r:
            h = r["headline"]
            f1 = " / ".join(f"{h[name]['macro_f1']:.3f}" for name in ("postings", "plans", "hard"))
            chosen = f"{f1} (t={r['chosen']['threshold']})"
            oriented = [h[s] for s in ("postings", "plans", "hard")]
            rate = sum(o["insufficient_signal_rate"] * o["n"] for o in oriented) / sum(o["n"] for o in oriented)
            abstain = f"{_pct(h['neutral']['insufficient_signal_rate'])} / {_pct(rate)}"
        out.append(
            f"| **{r['key']}** {r['description']} | {r['n_train']} | {r['article_cv_macro_f1']:.3f} | {f['postings']:.3f} | "
            f"{f['plans']:.3f} | {f['hard']:.3f} | {r['brier']:.3f} | {chosen} | {abstain} | {r['decision']} |"
        )
    out += [
        "",
        "Searched hyper-parameters (shipped model's training data): best grouped-CV macro-F1 reached with each value",
        "",
        "| parameter | value | best grouped-CV macro-F1 |",
        "|---|---|---|",
    ]
    out += [f"| {g['parameter']} | {json.dumps(g['value'])} | {g['best_grouped_cv_macro_f1']:.3f} |" for g in grid_rows]
    out += [
        "",
        f"Probability calibration (Platt scaling fitted on out-of-fold training probabilities): Brier on (a)–(c) "
        f"{calibration['brier_before']:.4f} before, {calibration['brier_after']:.4f} after. Not adopted: the verdict "
        "bands, chosen on the sets, already map probabilities to verdicts, and unscaled probabilities keep the "
        "linear export equal to scikit-learn's `predict_proba`.",
        "",
        "Class weights, sublinear TF, word bigrams and C are searched by grouped CV for every training (table above): "
        "each is kept or dropped by that search, not by hand.",
        "",
    ]
    return "\n".join(out)


def render(meta: dict[str, Any], per_set: dict[str, dict[str, Any]], levers: str) -> str:
    """The whole report."""
    cv = meta["cv"]
    v = meta["verdict"]
    sources = "\n".join(
        f"- `{s['file']}`: {s['count']} documents ({', '.join(f'{k} {n}' for k, n in s['labels'].items())}), "
        f"sha256 `{s['sha256'][:16]}…`"
        for s in meta["sources"]
    )
    parts = [
        "# Evaluation of the shipped model",
        "",
        "Written by `make evaluate` (`orient evaluate --report reports/evaluation.md --levers`); do not edit by hand.",
        "",
        "## The model",
        "",
        f"Training sources (the evaluation sets are never among them):\n\n{sources}",
        "",
        f"Setting chosen by grouped cross-validation: `{json.dumps(meta['params'])}`; "
        f"department words masked: {'、'.join(meta['department_words_masked']) or 'none'}.",
        "",
        f"Articles, {cv['scheme']}: accuracy {cv['accuracy']:.3f}, macro-F1 **{cv['macro_f1']:.3f}** "
        f"(sales P {cv['per_class']['sales']['precision']:.3f} / R {cv['per_class']['sales']['recall']:.3f}; "
        f"marketing P {cv['per_class']['marketing']['precision']:.3f} / R {cv['per_class']['marketing']['recall']:.3f}).",
        "",
        "## Verdict settings (chosen on the evaluation sets, so the figures below are not a blind test)",
        "",
        f"- decision threshold on P(marketing): **{v['threshold']}** "
        "(maximises the mean macro-F1 of sets a–c; ties go nearest 0.5)",
        f"- bands: strongly sales < {v['bands'][0]} ≤ sales < {v['bands'][1]} ≤ balanced < {v['bands'][2]} ≤ marketing < "
        f"{v['bands'][3]} ≤ strongly marketing (balanced: narrowest band outside which 95% of a–c are right; "
        "strongly: where 98% are right)",
        f"- insufficient signal: fewer than {v['min_signal_terms']} occurrences of terms whose |weight| ≥ {v['signal_weight']} "
        f"or the orientation gate gives less than {v.get('gate', 0.0)} (the setting that abstains on most of set d while "
        "abstaining on under 5% of each of sets a–c)",
        "",
        "## Figures per evaluation set",
        "",
        *[set_section(name, figures) for name, figures in per_set.items()],
        "## Lever study",
        "",
        "Each variant is trained without the evaluation sets, its setting chosen by grouped CV on its own training data "
        "(a reduced grid); F1 @0.5 uses the plain 0.5 threshold, the next column the threshold chosen as above.",
        "",
        levers,
    ]
    return "\n".join(parts).rstrip() + "\n"


def per_set_figures(clf: Any) -> dict[str, dict[str, Any]]:
    """Evaluate the model on every evaluation set."""
    from pipeline.evaluate import eval_set_docs, evaluate

    figures = {name: evaluate(clf, eval_set_docs(name)) for name in config.EVAL_SETS}
    if (config.EVAL_DIR / config.SEALED_SET).exists():
        figures["sealed"] = evaluate(clf, eval_set_docs("sealed"))
    return figures


def lever_study(clf: Any, progress: Callable[[str], None]) -> str:
    """Run every lever variant, the grid levers and the calibration check; return their Markdown."""
    from pipeline import levers
    from pipeline.evaluate import Scored, eval_set_docs
    from pipeline.train import training_set

    rows = []
    for variant in levers.VARIANTS:
        progress(f"lever study: variant {variant.key} ({variant.description})")
        rows.append(levers.run_variant(variant))
    progress("lever study: hyper-parameter grid and calibration")
    data = training_set()
    meta = clf.metadata
    params = {
        **meta["params"],
        "ngram_range": tuple(meta["params"]["ngram_range"]),
        "stop_words": meta["department_words_masked"] or None,
    }
    oof = levers.out_of_fold_probabilities(params, data)
    held = [
        Scored(d.id, d.label, clf.score(d.text).marketing_probability, ())
        for name in levers.ORIENTED_SETS
        for d in eval_set_docs(name)
    ]
    return levers_section(rows, levers.grid_levers(data), levers.platt(oof, held))


def write_report(
    path: Path, clf: Any, per_set: dict[str, dict[str, Any]], with_levers: bool, progress: Callable[[str], None]
) -> None:
    """Write the Markdown report atomically."""
    from pipeline.files import atomic_write

    lever_text = lever_study(clf, progress) if with_levers else "Not run (add --levers)."
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, render(clf.metadata, per_set, lever_text).encode("utf-8"))

"""The HTML report: one self-contained file people can open from disk and share.

Nothing is loaded from outside the file (no scripts, styles, fonts or images), and its Content
Security Policy says so: the one inline style and the one inline script are allowed by their SHA-256,
so even a mistake in escaping could not run a script from a document. Every piece of document text
goes through `esc`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pipeline import __version__
from pipeline.explain import NO_SIGNAL, SIDES, Explained, Mark, SentenceView, TermRow, section_title, stated_limits
from pipeline.result import EXPLANATIONS, INSUFFICIENT, VERDICTS
from pipeline.writers import phrase

HISTOGRAM_BINS = 10
VERDICT_ORDER = (*VERDICTS, INSUFFICIENT)
# Characters HTML cannot carry (C0/C1 controls but tab and newlines, lone surrogates, noncharacters):
# each becomes U+FFFD, one for one, so every span into the text stays valid.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")

FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", "Heiti SC", system-ui, sans-serif'
)

STYLE = """
:root { --sales: #b45309; --sales-bg: #fde6c8; --sales-soft: #fff5e8; --mkt: #1d4ed8; --mkt-bg: #d4e3ff;
        --mkt-soft: #eef4ff; --bal-soft: #f3f3f1; --ink: #1f2328; --muted: #5b6270; --line: #d9dce1; }
* { box-sizing: border-box; }
body { font-family: FONTS; color: var(--ink); margin: 0 auto; max-width: 72rem; padding: 1.5rem 2rem 4rem;
       line-height: 1.6; background: #fff; }
h1 { font-size: 1.7rem; margin: 0 0 .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid var(--line); }
h3 { margin: 0 0 .4rem; font-size: 1.15rem; word-break: break-all; }
.muted, .meta { color: var(--muted); font-size: .9rem; }
.summary { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 1rem 2rem; align-items: start; }
@media (max-width: 60rem) { .summary { grid-template-columns: minmax(0, 1fr); } }
.summary figure { margin: 0; } .verdicts td.muted { font-size: .85rem; }
table { border-collapse: collapse; font-size: .92rem; }
th, td { padding: .3rem .7rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; cursor: pointer; color: inherit; }
th[aria-sort="ascending"] button::after { content: " ▲"; } th[aria-sort="descending"] button::after { content: " ▼"; }
svg.histogram { background: #fafafa; border: 1px solid var(--line); }
svg text { font-family: FONTS; font-size: 11px; fill: var(--muted); }
rect.bin { fill: #8a94a6; } rect.bin.sales { fill: var(--sales); } rect.bin.marketing { fill: var(--mkt); }
.legend span { margin-right: 1rem; white-space: nowrap; }
.verdict { display: inline-block; white-space: nowrap; padding: .05rem .5rem; border-radius: .3rem; font-weight: 600;
           background: var(--bal-soft); }
.verdict.v-sales { background: var(--sales-bg); color: #7c2d12; }
.verdict.v-marketing { background: var(--mkt-bg); color: #1e3a8a; }
article.document { border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.2rem; margin: 1.2rem 0; }
.doc-text { white-space: pre-wrap; word-break: break-word; font-size: 1rem; line-height: 1.9; padding: .6rem .8rem;
            background: #fcfcfb; border-radius: .3rem; }
.s { border-radius: .2rem; padding: .1rem 0; }
.section-label { display: block; } .section-label::before { content: attr(data-label); color: var(--muted); font-size: .8rem; }
.s.o-sales { background: var(--sales-soft); box-shadow: inset 0 -2px 0 var(--sales); }
.s.o-marketing { background: var(--mkt-soft); box-shadow: inset 0 -2px 0 var(--mkt); }
.s.o-balanced { background: var(--bal-soft); }
mark.term { border-radius: .2rem; padding: 0 .1rem; color: inherit; font-weight: 600; }
mark.term.sales { background: var(--sales-bg); } mark.term.marketing { background: var(--mkt-bg); }
.evidence { display: flex; flex-wrap: wrap; gap: 2rem; margin-top: .8rem; }
.evidence h4, .hints h4 { margin: .2rem 0; font-size: .95rem; }
.evidence table td { padding: .1rem .6rem; }
.hints { margin-top: .8rem; } .hints li { margin-bottom: .4rem; } .hints q { color: var(--muted); }
.card dt { font-weight: 600; } .card dd { margin: 0 0 .5rem 1rem; }
.skipped { color: #9f1239; }
@media print { article.document { break-inside: avoid; } }
""".replace("FONTS", FONTS)

# Sorts the documents table by the column clicked; "#sort=score" or "#sort=-score" in the URL sorts on load.
SCRIPT = """
(function () {
  var table = document.getElementById("doc-table");
  if (!table) return;
  var body = table.tBodies[0];
  function sortBy(key, descending) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.getAttribute("data-" + key), y = b.getAttribute("data-" + key);
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      if (c === 0) c = parseFloat(a.getAttribute("data-order")) - parseFloat(b.getAttribute("data-order"));
      return descending ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      if (th.getAttribute("data-key") === key) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else if (th.hasAttribute("data-key")) th.setAttribute("aria-sort", "none");
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var key = th.getAttribute("data-key");
    if (!key) return;
    th.querySelector("button").addEventListener("click", function () {
      sortBy(key, th.getAttribute("aria-sort") === "ascending");
    });
  });
  var m = /[#&]sort=(-?)([a-z]+)/.exec(location.hash);
  if (m) sortBy(m[2], m[1] === "-");
  document.documentElement.setAttribute("data-script", "ready");
})();
"""


def esc(text: str) -> str:
    """Escape text for HTML element content and attribute values (quotes included)."""
    return html.escape(_UNSAFE.sub("\ufffd", text), quote=True)


# What a document's section says, in Chinese for `orient serve`'s Chinese page; the report itself is in English.
ZH = {
    "strongly sales-oriented": "强烈销售导向",
    "sales-oriented": "销售导向",
    "balanced": "两者兼顾",
    "marketing-oriented": "营销导向",
    "strongly marketing-oriented": "强烈营销导向",
    "insufficient signal": "信号不足",
    EXPLANATIONS[VERDICTS[0]]: "语言通篇以产品为中心：卖出现有的东西，完成本期的数字。",
    EXPLANATIONS[VERDICTS[1]]: "语言偏向以产品为中心：讲销售和指标多于讲客户的需求。",
    EXPLANATIONS[VERDICTS[2]]: "语言兼有两种导向，或只略微偏向一边。",
    EXPLANATIONS[VERDICTS[3]]: "语言偏向以客户为中心：讲客户需求、调研和定位多于讲销售。",
    EXPLANATIONS[VERDICTS[4]]: "语言通篇以客户为中心：从客户的需求、市场和长远出发。",
    EXPLANATIONS[INSUFFICIENT]: "模型认识的词太少，无法判断；此时的概率接近模型的先验。",
    "strong terms": "个强信号词",
    "sentences": "句",
    "Why": "原因",
    "Terms pulling towards sales": "偏向销售的词",
    "Terms pulling towards marketing": "偏向营销的词",
    "term": "词",
    "count": "次数",
    "weight": "权重",
    "pull": "作用",
    "none": "无",
    "Rewriting hints for the most sales-leaning sentences": "最偏销售的句子：改写建议",
    "text": "正文",
    "company introduction (left out of scoring)": "公司介绍（不计分）",
    "duties": "岗位职责",
    "requirements": "任职要求",
    "pay and benefits (left out of scoring)": "薪资福利（不计分）",
}


def say(text: str, lang: str = "en") -> str:
    """A piece of the document section's wording in the page's language (English unless a Chinese one is known)."""
    return ZH.get(text, text) if lang == "zh" else text


def csp_hash(source: str) -> str:
    """The Content-Security-Policy source that allows exactly this inline style or script."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _verdict_side(verdict: str) -> str:
    return "sales" if "sales" in verdict else "marketing" if "marketing" in verdict else "other"


def _mark_html(text: str, m: Mark) -> str:
    title = "; ".join(f"{t} {w:+.2f}" for t, w in m.terms)
    side = "pulls towards sales" if m.side == "sales" else "pulls towards marketing"
    return f'<mark class="term {m.side}" title="{esc(f"{side}: {title}")}">{esc(text[m.start : m.end])}</mark>'


def _sentence_html(text: str, view: SentenceView, index: int, doc: int) -> str:
    s = view.score
    if view.orientation == NO_SIGNAL:
        title = f"sentence {index}: no strong term"
    else:
        title = f"sentence {index}: {view.orientation}, P(marketing) {s.marketing_probability:.2f}, {s.signal_terms} strong terms"
    parts = []
    at = s.start
    for m in view.marks:
        parts.append(esc(text[at : m.start]))
        parts.append(_mark_html(text, m))
        at = m.end
    parts.append(esc(text[at : s.end]))
    orientation = view.orientation.replace(" ", "-")
    return (
        f'<span class="s o-{orientation}" id="doc-{doc}-s{index}" data-p="{s.marketing_probability:.4f}" title="{esc(title)}">'
        + "".join(parts)
        + "</span>"
    )


def document_text_html(ex: Explained, doc: int = 1, lang: str = "en") -> str:
    """The document's original text with sentence shading and highlighted terms, all of it escaped."""
    parts = []
    at = 0
    shown = "body"
    for n, view in enumerate(ex.sentences, start=1):
        parts.append(esc(ex.text[at : view.score.start]))
        if view.score.section != shown:
            shown = view.score.section
            # The label is drawn by CSS from its attribute, so the document's own text stays exactly its text.
            label = esc(say(section_title(shown), lang))
            parts.append(f'<span class="section-label" data-section="{esc(shown)}" data-label="{label}"></span>')
        parts.append(_sentence_html(ex.text, view, n, doc))
        at = view.score.end
    parts.append(esc(ex.text[at:]))
    return "".join(parts)


def _terms_table(side: str, rows: Sequence[TermRow], lang: str = "en") -> str:
    body = (
        "".join(
            f'<tr><td><mark class="term {side}">{esc(phrase(r.term))}</mark></td><td class="num">×{r.count}</td>'
            f'<td class="num">{r.weight:+.2f}</td><td class="num">{r.contribution:+.3f}</td></tr>'
            for r in rows
        )
        or f'<tr><td colspan="4" class="muted">{say("none", lang)}</td></tr>'
    )
    head = "".join(f"<th{'' if h == 'term' else ' class=num'}>{say(h, lang)}</th>" for h in ("term", "count", "weight", "pull"))
    return (
        f'<div class="terms {side}"><h4>{say(f"Terms pulling towards {side}", lang)}</h4><table>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _hints_html(ex: Explained, doc: int, lang: str = "en") -> str:
    if not ex.hints:
        return ""
    items = []
    for i, hints in ex.hints:
        s = ex.sentences[i].score
        tips = "".join(f'<li>{esc(h.zh)}<br><span class="muted">{esc(h.en)}</span></li>' for h in hints)
        name = f"第{i + 1}句" if lang == "zh" else f"Sentence {i + 1}"
        where = f'<a href="#doc-{doc}-s{i + 1}">{name}</a> (P(marketing) {s.marketing_probability:.2f})'
        items.append(f"<li>{where}: <q>{esc(s.text)}</q><ul>{tips}</ul></li>")
    heading = say("Rewriting hints for the most sales-leaning sentences", lang)
    return f'<div class="hints"><h4>{heading}</h4><ol>{"".join(items)}</ol></div>'


def document_html(ex: Explained, n: int, lang: str = "en") -> str:
    """One document's section: verdict and its fixed explanation, shaded text, evidence terms, hints (lang: en or zh)."""
    r = ex.result
    why = f'<br><span class="reason">{say("Why", lang)}: {esc(r.reason)}.</span>' if r.reason else ""
    return (
        f'<article class="document" id="doc-{n}" data-verdict="{esc(r.verdict)}" data-p="{r.marketing_probability:.4f}">'
        f"<h3>{n}. {esc(ex.id)}</h3>"
        f'<p><span class="verdict v-{_verdict_side(r.verdict)}">{esc(say(r.verdict, lang))}</span> '
        f"P(marketing) <strong>{r.marketing_probability:.2f}</strong> · {r.signal_terms} {say('strong terms', lang)} · "
        f'{len(ex.sentences)} {say("sentences", lang)}<br><span class="explanation">{esc(say(r.explanation, lang))}</span>'
        f"{why}</p>"
        f'<div class="doc-text" lang="zh">{document_text_html(ex, n, lang)}</div>'
        f'<div class="evidence">{"".join(_terms_table(side, ex.top[side], lang) for side in SIDES)}</div>'
        f"{_hints_html(ex, n, lang)}</article>"
    )


def histogram_svg(probabilities: Sequence[float], bands: Sequence[float], bins: int = HISTOGRAM_BINS) -> str:
    """Inline SVG histogram of P(marketing) over [0, 1], with the verdict bands drawn as dashed lines."""
    counts = [0] * bins
    for p in probabilities:
        counts[min(int(p * bins), bins - 1)] += 1
    width, height, left, bottom, top = 480, 230, 36, 34, 20
    plot_w, plot_h = width - left - 12, height - bottom - top
    peak = max(counts) or 1
    bar_w = plot_w / bins
    parts = [
        f'<svg class="histogram" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="hist-title"><title id="hist-title">'
        f"Histogram of P(marketing) over {len(probabilities)} documents</title>"
    ]
    for k in range(0, peak + 1, max(1, peak // 4)):
        y = top + plot_h - plot_h * k / peak
        parts.append(
            f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e5e8"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{k}</text>'
        )
    for i, c in enumerate(counts):
        lo, hi = i / bins, (i + 1) / bins
        h = plot_h * c / peak
        x = left + i * bar_w + 1
        side = "sales" if hi <= 0.5 else "marketing" if lo >= 0.5 else "mid"
        parts.append(
            f'<rect class="bin {side}" data-count="{c}" data-from="{lo:.2f}" data-to="{hi:.2f}" x="{x:.1f}" '
            f'y="{top + plot_h - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}">'
            f"<title>{lo:.1f}–{hi:.1f}: {c} document{'s' if c != 1 else ''}</title></rect>"
        )
        if c:
            parts.append(f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle">{c}</text>')
    for b in bands:
        x = left + plot_w * b
        parts.append(
            f'<line class="band" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#555" stroke-dasharray="3 3"/>'
        )
    for k in range(0, 11, 2):
        x = left + plot_w * k / 10
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 15}" text-anchor="middle">{k / 10:.1f}</text>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 3}" text-anchor="middle">'
        "P(marketing): sales-oriented ← → marketing-oriented; dashed lines: verdict bands</text></svg>"
    )
    return "".join(parts)


def _summary_html(docs: Sequence[Explained], skipped: Sequence[tuple[str, str]], bands: Sequence[float]) -> str:
    counts = Counter(ex.result.verdict for ex in docs)
    rows = "".join(
        f'<tr data-verdict="{esc(v)}"><td><span class="verdict v-{_verdict_side(v)}">{esc(v)}</span></td>'
        f'<td class="num">{counts.get(v, 0)}</td><td class="muted">{esc(EXPLANATIONS[v])}</td></tr>'
        for v in VERDICT_ORDER
    )
    skipped_html = ""
    if skipped:
        items = "".join(f"<li>{esc(name)}: {esc(why)}</li>" for name, why in skipped)
        heading = f"{len(skipped)} input(s) could not be read and are not in this report"
        skipped_html = f'<div class="skipped"><h3>{heading}</h3><ul>{items}</ul></div>'
    return (
        '<section id="summary"><h2>Summary</h2><div class="summary">'
        f'<table class="verdicts"><thead><tr><th>verdict</th><th class="num">documents</th><th>meaning</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f"<figure>{histogram_svg([ex.result.marketing_probability for ex in docs], bands)}</figure>"
        f"</div>{skipped_html}</section>"
    )


def _table_html(docs: Sequence[Explained]) -> str:
    rows = []
    for n, ex in enumerate(docs, start=1):
        r = ex.result
        rows.append(
            f'<tr data-order="{n}" data-id="{esc(ex.id)}" data-verdict="{VERDICT_ORDER.index(r.verdict)}" '
            f'data-score="{r.marketing_probability:.4f}" data-signal="{r.signal_terms}">'
            f'<td class="num">{n}</td><td><a href="#doc-{n}">{esc(ex.id)}</a></td>'
            f'<td><span class="verdict v-{_verdict_side(r.verdict)}">{esc(r.verdict)}</span></td>'
            f'<td class="num">{r.marketing_probability:.2f}</td><td class="num">{r.signal_terms}</td></tr>'
        )
    head = (
        '<tr><th class="num" data-key="order" aria-sort="ascending"><button type="button">#</button></th>'
        '<th data-key="id" aria-sort="none"><button type="button">document</button></th>'
        '<th data-key="verdict" aria-sort="none"><button type="button">verdict</button></th>'
        '<th class="num" data-key="score" aria-sort="none"><button type="button">P(marketing)</button></th>'
        '<th class="num" data-key="signal" aria-sort="none"><button type="button">strong terms</button></th></tr>'
    )
    return (
        f'<section id="documents-table"><h2>Documents</h2><p class="muted">Click a column heading to sort '
        f"(P(marketing): low is sales-oriented, high is marketing-oriented).</p>"
        f'<table id="doc-table" class="sortable"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></section>'
    )


def _card_html(metadata: dict[str, Any], model_name: str) -> str:
    cv = metadata.get("cv", {})
    verdict = metadata.get("verdict", {})
    items: list[tuple[str, str]] = [("model", f"{model_name}, vocabulary {metadata.get('vocabulary_size', '?')} terms")]
    if metadata.get("label_counts"):
        items.append(("training passages", ", ".join(f"{k} {v}" for k, v in metadata["label_counts"].items())))
    if "accuracy" in cv:
        per_class = "; ".join(
            f"{label}: precision {f['precision']:.2f}, recall {f['recall']:.2f}" for label, f in cv.get("per_class", {}).items()
        )
        items.append(
            (
                "cross-validated figures",
                f"{cv.get('scheme', '')}: accuracy {cv['accuracy']:.3f}, macro-F1 {cv.get('macro_f1', 0):.3f} "
                f"on {cv.get('n', '?')} passages. {per_class}",
            )
        )
    if verdict:
        items.append(
            (
                "verdicts",
                f"bands on P(marketing) at {', '.join(str(b) for b in verdict.get('bands', []))}; "
                f"a strong term has |weight| ≥ {verdict.get('signal_weight', 0):.2f}; "
                f"insufficient signal below {verdict.get('min_signal_terms', '?')} strong terms",
            )
        )
    if metadata.get("versions"):
        items.append(("versions", ", ".join(f"{k} {v}" for k, v in metadata["versions"].items())))
    if metadata.get("corpus", {}).get("sha256"):
        items.append(("corpus sha256", metadata["corpus"]["sha256"]))
    card = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    limits = "".join(f"<li>{esc(x)}</li>" for x in stated_limits(metadata))
    return (
        f'<section id="model-card" class="card"><h2>Model card</h2><dl>{card}</dl>'
        f'<h3>Limits</h3><ul class="limits">{limits}</ul></section>'
    )


def build_report(
    docs: Sequence[Explained],
    metadata: dict[str, Any],
    model_name: str = "orientation",
    skipped: Sequence[tuple[str, str]] = (),
    generated: datetime | None = None,
) -> str:
    """The whole report as one HTML string: summary, sortable table, one section per document, model card."""
    generated = generated or datetime.now(UTC)
    bands = metadata.get("verdict", {}).get("bands", [])
    csp = (
        f"default-src 'none'; style-src {csp_hash(STYLE)}; script-src {csp_hash(SCRIPT)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    legend = (
        '<p class="legend"><span><mark class="term sales">term</mark> pulls towards sales</span>'
        '<span><mark class="term marketing">term</mark> pulls towards marketing</span>'
        '<span><span class="s o-sales">sentence</span> sales-leaning</span>'
        '<span><span class="s o-marketing">sentence</span> marketing-leaning</span>'
        '<span><span class="s o-balanced">sentence</span> balanced</span></p>'
    )
    sections = "".join(document_html(ex, n) for n, ex in enumerate(docs, start=1))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>orient report: {len(docs)} documents</title><style>{STYLE}</style></head><body>"
        f'<header><h1>orient report</h1><p class="meta">{len(docs)} documents scored by orient {__version__} '
        f"on {generated:%Y-%m-%d %H:%M} UTC. How sales-oriented (product-centred) or marketing-oriented "
        "(customer-centred) each text is, and the words and sentences that made it so.</p></header>"
        f"{_summary_html(docs, skipped, bands)}{_table_html(docs)}"
        f'<section id="documents"><h2>Each document</h2>{legend}{sections}</section>'
        f"{_card_html(metadata, model_name)}"
        f"<script>{SCRIPT}</script></body></html>\n"
    )

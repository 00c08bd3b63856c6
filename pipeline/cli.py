"""The `orient` command line: parse options, call the library, format the results."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TextIO

import click

from pipeline import __version__, config
from pipeline.errors import OrientError
from pipeline.parallel import default_jobs
from pipeline.predict import Classifier
from pipeline.readers import DEFAULT_MAX_BYTES, Document, Failure
from pipeline.runner import Batch, Reading, documents
from pipeline.writers import FORMATS, SUFFIX_FORMATS, make_writer, writable

_MODEL_HELP = "Model file (.joblib or .skops; its .json metadata and .linear.json export beside it). Default: the shipped model."


def _fail(exc: OrientError) -> click.ClickException:
    return click.ClickException(str(exc))


def model_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --model (env ORIENT_MODEL) to a command."""
    return click.option(
        "--model",
        "model_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="ORIENT_MODEL",
        show_envvar=True,
        help=_MODEL_HELP,
    )(f)


def output_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --format and -o/--output to a command that prints records."""
    f = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write to this file (atomically: it appears only when complete).",
    )(f)
    f = click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        help="Output format. Default: -o FILE's suffix (.csv .tsv .jsonl .json .xlsx), else table on a terminal, else jsonl.",
    )(f)
    return f


def _load(model_path: Path | None, trust: bool = False) -> Classifier:
    from pipeline.predict import load

    try:
        return load(model_path, trust=trust) if trust else load(model_path)
    except OrientError as exc:
        raise _fail(exc) from None


def _open_output(output: Path | None, inputs: tuple[str, ...], fmt: str = "", resume: bool = False) -> tuple[TextIO, Any]:
    """Return the stream to write to, and the output to commit (None for stdout); JSON lines go through FILE.partial."""
    if output is None:
        return sys.stdout, None
    from pipeline.files import AtomicOutput
    from pipeline.resume import ResumableOutput

    target = output.resolve()
    for name in inputs:
        if name != "-" and Path(name).exists() and Path(name).resolve() == target:
            raise click.UsageError(f"Refusing to write the output over the input {name}.")
    if not target.parent.is_dir():
        raise click.UsageError(f"Cannot write {output}: folder {output.parent} does not exist.")
    if fmt == "jsonl":
        try:
            resumable = ResumableOutput(target, resume=resume)
        except OrientError as exc:
            raise click.UsageError(str(exc)) from None
        return resumable.stream, resumable
    atomic = AtomicOutput(target)
    return atomic.stream, atomic


def _check_encoding(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse an unknown --encoding at once, not once per document."""
    import codecs

    if value is not None:
        try:
            codecs.lookup(value)
        except LookupError:
            raise click.BadParameter(f"{value!r} is not an encoding Python knows (e.g. utf-8, gb18030, big5).") from None
    return value


class _Progress:
    """A document counter with its rate (and the total, where it is known) on standard error.

    Shown only when standard error is a terminal and the records do not go to that same terminal: a counter
    redrawn in the middle of a table would run into it.
    """

    def __init__(self, records_to_terminal: bool = False, total: int | None = None) -> None:
        self.enabled = sys.stderr.isatty() and not records_to_terminal
        self.total = total
        self.count = 0
        self.start = self.last = time.monotonic()

    def _line(self) -> str:
        rate = self.count / max(time.monotonic() - self.start, 1e-9)
        of = f" of {self.total:,}" if self.total is not None else ""
        return f"\rscored {self.count:,}{of} documents ({rate:,.0f}/s)"

    def tick(self, documents: int = 1) -> None:
        self.count += documents
        if self.enabled and time.monotonic() - self.last > 0.2:
            self.last = time.monotonic()
            click.echo(self._line(), nl=False, err=True)

    def done(self) -> None:
        if self.enabled and self.count:
            click.echo(self._line(), err=True)


class _HeldInterrupts:
    """Ctrl-C held back while records are written and counted, so that "interrupted after N" counts what was written."""

    def __init__(self) -> None:
        self.holding = self.pending = False

    def __enter__(self) -> None:
        self.holding = True

    def __exit__(self, kind: Any, *rest: Any) -> None:
        self.holding = False
        if self.pending and kind is None:
            self.pending = False
            raise KeyboardInterrupt

    def handler(self, signum: int, frame: Any) -> None:
        """SIGINT's handler while records are written: Python's own, except inside the block."""
        if self.holding:
            self.pending = True
        else:
            raise KeyboardInterrupt

    def install(self) -> Callable[[], None]:
        """Handle SIGINT here, when Python's default handler has it; return what puts the previous one back."""
        import signal
        import threading

        previous = signal.getsignal(signal.SIGINT)
        if previous is not signal.default_int_handler or threading.current_thread() is not threading.main_thread():
            return lambda: None
        signal.signal(signal.SIGINT, self.handler)

        def restore() -> None:
            signal.signal(signal.SIGINT, previous)

        return restore


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="orient")
def main() -> None:
    """How sales-oriented or marketing-oriented is a Chinese business text, and why.

    \b
    Example:
      orient score --text '负责市场调研，洞察目标客户需求，制定品牌定位。'
      orient score postings/ --format csv -o scores.csv
    """


def _shown(doc_id: str) -> str:
    """A document id as it can be shown on one line: control and direction characters escaped."""
    import unicodedata

    if all(unicodedata.category(ch) not in ("Cc", "Cf") for ch in doc_id):
        return doc_id
    return "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf") else f"\\u{ord(ch):04x}" for ch in doc_id)


def input_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add --text and the options that say how to read INPUTS."""
    options = [
        click.option("--text", "texts", multiple=True, help="Use this string as a document (repeatable)."),
        click.option("--text-field", default="text", show_default=True, help="Field holding the text in .jsonl/.csv records."),
        click.option("--id-field", default="id", show_default=True, help="Field holding the id in .jsonl/.csv records."),
        click.option(
            "--input-format",
            type=click.Choice(["auto", "text", "jsonl", "csv", "tsv", "sheet", "document"]),
            default="auto",
            show_default=True,
            help="How to read INPUTS (auto: by suffix; standard input is text).",
        ),
        click.option(
            "--encoding", callback=_check_encoding, help="Decode text files with this encoding instead of detecting it."
        ),
        click.option("--delimiter", help="Field separator of .csv/.tsv inputs (default: , for .csv, a tab for .tsv)."),
        click.option("--sheet", help="Which sheet of .xlsx inputs to read (default: the first)."),
        click.option(
            "--max-bytes",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_BYTES,
            show_default=True,
            help="Largest document accepted, in bytes; larger ones are refused and named.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@main.command()
@click.argument("inputs", nargs=-1)
@input_options
@click.option("--explain", is_flag=True, help="Add each document's sentences and its terms' character spans (json/jsonl).")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue an interrupted batch: keep the records in -o FILE (JSON lines) and score only the documents not yet in it.",
)
@click.option(
    "--trust-model",
    is_flag=True,
    help="Load a model file that has no matching metadata (unchecked: a model file is code; use only on files you trust).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    envvar="ORIENT_JOBS",
    show_envvar=True,
    help="Processes that score a batch: this one and N - 1 workers. Default: the number of available cores.",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    envvar="ORIENT_SCHEDULER",
    show_envvar=True,
    help="Score on a running Dask cluster, e.g. tcp://10.0.0.5:8786 (needs: pip install 'orient-zh[dask]').",
)
@click.option(
    "--bom/--no-bom",
    default=None,
    help="Start CSV/TSV with a UTF-8 byte-order mark, so Excel reads Chinese right. Default: on for -o FILE, off otherwise.",
)
@output_options
@model_option
def score(
    inputs: tuple[str, ...],
    texts: tuple[str, ...],
    text_field: str,
    id_field: str,
    input_format: str,
    encoding: str | None,
    max_bytes: int,
    delimiter: str | None,
    sheet: str | None,
    explain: bool,
    fmt: str | None,
    output: Path | None,
    model_path: Path | None,
    resume: bool = False,
    trust_model: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    bom: bool | None = None,
) -> None:
    """Score documents: files, folders (.txt/.md inside), .jsonl/.csv records, or - for standard input.

    \b
    Examples:
      orient score examples/
      orient score postings.jsonl --format jsonl -o scored.jsonl
      orient score --text '每天拨打100个电话，完成本月销售指标。' --format json
      cat posting.txt | orient score -
      orient score postings/ -o scored.jsonl --resume   # after an interrupted run
      orient score postings.jsonl --jobs 2 -o scored.jsonl
    """
    if not inputs and not texts:
        if sys.stdin.isatty():
            raise click.UsageError(
                "Nothing to score: name files or folders, use --text '…', or pipe text in, e.g. orient score examples/"
            )
        inputs = ("-",)
    fmt = fmt or (SUFFIX_FORMATS.get(output.suffix.lower()) if output is not None else None)
    fmt = fmt or ("table" if output is None and sys.stdout.isatty() and not explain else "jsonl")
    if fmt == "xlsx" and output is None and sys.stdout.isatty():
        raise click.UsageError("An Excel workbook is a file: name it with -o, e.g. -o scored.xlsx")
    if explain and fmt not in ("json", "jsonl"):
        raise click.UsageError(
            f"--explain adds sentences and spans, which --format {fmt} cannot carry: use --format json "
            "or jsonl, or `orient explain FILE` to read them."
        )
    if resume and (output is None or fmt != "jsonl"):
        raise click.UsageError("--resume continues a JSON-lines output: give -o FILE (with --format jsonl, the default).")
    clf = _load(model_path, trust=trust_model)
    stream, atomic = _open_output(output, inputs, fmt, resume)
    # A CSV file is for a spreadsheet, and Excel on Windows reads Chinese right only after a byte-order mark.
    writer = make_writer(fmt, stream, bom=output is not None if bom is None else bom)
    # The total is known when the documents are --text strings alone.
    progress = _Progress(output is None and sys.stdout.isatty(), len(texts) if texts and not inputs else None)
    reading = Reading(text_field, id_field, encoding, input_format, max_bytes, delimiter, sheet)
    batch = Batch(texts, inputs, reading, jobs or default_jobs(), scheduler, explain, atomic.done if resume else None)
    held = _HeldInterrupts()
    restore = held.install()
    try:
        failures = batch.run(clf, writer, _say, progress.tick, lambda: held)
        writer.close()
    except OrientError as exc:
        if atomic is not None:
            atomic.discard()
        raise _fail(exc) from None
    except BrokenPipeError:
        # `orient score … | head -1`: the reader has gone. Point stdout at /dev/null so Python's own
        # flush at exit has nowhere to fail, and stop quietly with success, as `cat` would.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        # Ctrl-C: what was written stays valid; say how much, and where it is when it can be resumed.
        if atomic is not None:
            atomic.discard()
        where = f"; {atomic.hint()}" if hasattr(atomic, "hint") else ""
        click.echo(
            ("\n" if progress.enabled else "") + f"orient: interrupted after {progress.count} document(s){where}.", err=True
        )
        sys.exit(130)
    except BaseException:
        if atomic is not None:
            atomic.discard()
        raise
    finally:
        restore()
    if atomic is not None:
        atomic.commit()
    progress.done()
    if failures:
        click.echo(f"orient: {failures} document(s) could not be scored; all others were written.", err=True)
        sys.exit(1)


def _say(doc_id: str, message: str) -> None:
    click.echo(f"orient: {_shown(doc_id)} {message}", err=True)


@main.command()
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also learn from this labelled .jsonl/.csv file (labels sales, marketing, neutral, mixed or 销售, 营销, 中性, 混合). "
    "Repeatable.",
)
@click.option(
    "--text-field", default="text", show_default=True, help="Field (or CSV column) of the --data files holding the text."
)
@click.option("--label-field", default="label", show_default=True, help="Field of the --data files holding the label.")
@click.option(
    "--format",
    "model_format",
    type=click.Choice(["joblib", "skops"]),
    default="joblib",
    show_default=True,
    help="Model file format: joblib (a pickle) or skops (loads only allow-listed types).",
)
@click.option("--force", is_flag=True, help="Replace the model at --model if there is one.")
@model_option
def train(
    data: tuple[Path, ...], text_field: str, label_field: str, model_path: Path | None, force: bool, model_format: str = "joblib"
) -> None:
    """Train a model on the corpus (plus your --data files), write it, and print its cross-validated figures.

    It writes to --model (default: orient-model.joblib here) and replaces an existing model only with
    --force; `make train` is the one way to rebuild the shipped model. Score with the new model with
    --model PATH or ORIENT_MODEL=PATH.

    \b
    Examples:
      orient train --data my_labels.csv --model my-model.joblib
      orient train --data jobs.csv --text-field 职位描述 --label-field 类别 --model jobs.joblib
      orient train --format skops --model my-model.skops
    """
    from pipeline.model import paths
    from pipeline.training.train import train as run_training

    model_path = model_path or Path(f"orient-model.{model_format}")
    if model_format == "skops":
        # The model file's suffix decides its format when saving and loading.
        model_path = model_path.with_suffix(".skops")
    existing = [p for p in paths(model_path) if p.exists()]
    if existing and not force:
        raise click.ClickException(f"{existing[0]} already exists; pass --force to replace it, or --model another path.")
    if not config.PASSAGES_FILE.exists():
        raise click.ClickException(f"No corpus at {config.PASSAGES_FILE}; training needs a source checkout of orient.")
    try:
        meta = run_training(model_path, data=data, text_field=text_field, label_field=label_field)
    except OrientError as exc:
        raise _fail(exc) from None
    click.echo(_cv_summary(meta["cv"], meta["label_counts"]))
    for source in meta["sources"]:
        click.echo(f"  source {source['file']}: {source['count']} documents, sha256 {source['sha256'][:12]}…")
    click.echo(f"wrote {model_path}; score with it: orient score --model {model_path} … (or ORIENT_MODEL={model_path})")


def _cv_summary(cv: dict[str, Any], counts: dict[str, int]) -> str:
    pc = cv["per_class"]
    return (
        f"training documents: {', '.join(f'{k} {v}' for k, v in counts.items())}\n"
        f"grouped CV on the articles ({cv['scheme']}):\n"
        f"  accuracy {cv['accuracy']:.3f}  macro-F1 {cv['macro_f1']:.3f}\n"
        + "".join(f"  {label:<9} precision {pc[label]['precision']:.3f}  recall {pc[label]['recall']:.3f}\n" for label in pc)
    ).rstrip()


@main.command()
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-field", default="text", show_default=True, help="Field (or CSV column) holding the text.")
@click.option("--label-field", default="label", show_default=True, help="Field holding the gold label.")
@click.option("--confidence-field", default="confidence", show_default=True, help="Field holding high/medium/low, if any.")
@click.option("--role-field", default="role", show_default=True, help="Field holding a title-based sales/marketing role, if any.")
@click.option("--group-field", default="site", show_default=True, help="Field to break figures down by (a source site), if any.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@model_option
def evaluate(
    files: tuple[Path, ...],
    text_field: str,
    label_field: str,
    confidence_field: str,
    role_field: str,
    group_field: str,
    fmt: str,
    model_path: Path | None,
) -> None:
    """Figures on labelled documents: macro-F1, abstention, confusion, calibration, by title and by site.

    FILES are labelled .jsonl/.csv files. Labels: sales, marketing, mixed, neutral (or 销售, 营销,
    混合, 中性; none means neutral). Headline figures count high- and medium-confidence sales/marketing
    documents (all of them when there is no confidence field). Without FILES: the real postings of
    ../shared/realdev/ when they are there (ORIENT_REALDEV names another file), and the written sets
    of corpus/eval/.

    \b
    Examples:
      orient evaluate
      orient evaluate ../shared/realdev/postings.jsonl --label-field orientation
      orient evaluate jobs.csv --text-field 职位描述 --label-field 类别 --format json
    """
    from pipeline.training import realeval

    clf = _load(model_path)
    fields = {"text_field": text_field, "label_field": label_field, "confidence_field": confidence_field}
    fields.update(role_field=role_field, group_field=group_field)
    per_set: dict[str, dict[str, Any]] = {}
    unusable = 0
    named = list(files)
    if not files:
        realdev = config.realdev_file()
        if realdev.exists():
            named = [realdev]
            if label_field == "label":  # the real postings' own field, unless the user named one
                fields["label_field"] = "orientation"
        else:
            click.echo(f"orient: no real postings at {realdev}; only the written sets are evaluated.", err=True)
    for file in named:
        docs, bad = realeval.read_documents(file, **fields)
        for failure in bad:
            click.echo(f"orient: {failure.id} {failure.message}; skipped.", err=True)
        unusable += len(bad) + (not docs)
        if docs:
            per_set[str(file)] = realeval.figures(clf, docs)
        else:
            click.echo(f"orient: {file} has no usable labelled records.", err=True)
    if not files:
        if not config.EVAL_DIR.is_dir():
            raise click.ClickException(f"No evaluation sets at {config.EVAL_DIR}; name labelled files to evaluate on.")
        per_set.update(realeval.written_figures(clf))
    if fmt == "json":
        click.echo(json.dumps({"sets": per_set, "article_cv": clf.metadata["cv"]}, ensure_ascii=False, indent=2))
    else:
        for name, figures in per_set.items():
            click.echo(realeval.summary(name, figures))
        if not files:
            click.echo(_cv_summary(clf.metadata["cv"], clf.metadata["label_counts"]) + "\n  (recorded at training)")
    if unusable:
        sys.exit(1)


@main.command()
@click.option("--limit", type=click.IntRange(1, 500), default=20, show_default=True, help="Terms per side.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@model_option
def words(limit: int, fmt: str, model_path: Path | None) -> None:
    """The published vocabulary: the terms that push hardest towards each side.

    \b
    Example:
      orient words --limit 30
    """
    clf = _load(model_path)
    strongest = clf.strongest_terms(limit)
    if fmt == "json":
        click.echo(
            json.dumps(
                {side: [{"term": t, "weight": round(w, 4)} for t, w in pairs] for side, pairs in strongest.items()},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    from pipeline.writers import display_width

    click.echo(f"{'sales-oriented':<24}{'marketing-oriented'}")
    rows = max(len(strongest["sales"]), len(strongest["marketing"]))
    for i in range(rows):
        left = strongest["sales"][i] if i < len(strongest["sales"]) else None
        right = strongest["marketing"][i] if i < len(strongest["marketing"]) else None
        cell = f"{left[0]} {left[1]:+.2f}" if left else ""
        click.echo(cell + " " * max(1, 24 - display_width(cell)) + (f"{right[0]} {right[1]:+.2f}" if right else ""))


@main.command()
def corpus() -> None:
    """Rebuild corpus/passages.jsonl from the raw page and the reviewed decisions.

    \b
    Example:
      orient corpus           # same as: make corpus
    """
    from collections import Counter

    from pipeline.training.corpus import build

    if not config.RAW_FILE.exists():
        raise click.ClickException(
            f"No source page at {config.RAW_FILE}; rebuilding the corpus needs a source checkout of orient."
        )
    try:
        passages = build()
    except OrientError as exc:
        raise _fail(exc) from None
    counts = Counter(p.label for p in passages)
    click.echo(
        f"{len(passages)} passages written to {config.PASSAGES_FILE}: "
        + ", ".join(f"{k} {counts[k]}" for k in ("sales", "marketing", "neutral"))
    )


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@model_option
def info(fmt: str, model_path: Path | None) -> None:
    """The model's metadata: versions, corpus hash, label counts, cross-validated figures.

    \b
    Example:
      orient info --format json
    """
    clf = _load(model_path)
    meta = clf.metadata
    if fmt == "json":
        click.echo(json.dumps(meta, ensure_ascii=False, indent=2))
        return
    click.echo(f"model: {clf.path}")
    click.echo("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    click.echo(f"corpus sha256: {meta['corpus']['sha256']}")
    click.echo(f"settings: {json.dumps(meta['params'])}; vocabulary {meta['vocabulary_size']} terms")
    click.echo(_cv_summary(meta["cv"], meta["label_counts"]))
    click.echo(
        "verdict bands on P(marketing): "
        + ", ".join(str(b) for b in meta["verdict"]["bands"])
        + f"; insufficient signal below {meta['verdict']['min_signal_terms']} signal terms"
        + f" or an orientation signal below {meta['verdict'].get('gate', 0.0)}"
    )


# --- evidence: `orient explain` and `orient report` (rendering lives in pipeline/explain.py and pipeline/report.py)


def _readable(texts: tuple[str, ...], inputs: tuple[str, ...], failures: list[Failure], reading: Reading) -> Iterator[Document]:
    """The documents that could be read; each one that could not is named on stderr and kept in failures."""
    for doc in documents(texts, inputs, reading):
        if isinstance(doc, Failure):
            failures.append(doc)
            click.echo(f"orient: {_shown(doc.id)} {doc.message}; skipped.", err=True)
            continue
        yield doc


def _exit_if_failed(failures: list[Failure], done: str) -> None:
    if failures:
        click.echo(f"orient: {len(failures)} document(s) could not be read; {done}.", err=True)
        sys.exit(1)


def _inputs_or_stdin(inputs: tuple[str, ...], texts: tuple[str, ...], example: str) -> tuple[str, ...]:
    if inputs or texts:
        return inputs
    if sys.stdin.isatty():
        raise click.UsageError(f"Nothing to read: name files or folders, use --text '…', or pipe text in, e.g. {example}")
    return ("-",)


def _use_color(flag: bool | None) -> bool:
    """Colour when asked to; otherwise only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


@main.command()
@click.argument("inputs", nargs=-1)
@input_options
@click.option("--terms", "top", type=click.IntRange(1, 50), default=8, show_default=True, help="Top terms shown per side.")
@click.option(
    "--hints",
    type=click.IntRange(0, 20),
    default=3,
    show_default=True,
    help="How many of the most sales-leaning sentences get a rewriting hint.",
)
@click.option("--color/--no-color", default=None, help="Colour the output. Default: on a terminal, unless NO_COLOR is set.")
@model_option
def explain(
    inputs: tuple[str, ...],
    texts: tuple[str, ...],
    text_field: str,
    id_field: str,
    input_format: str,
    encoding: str | None,
    max_bytes: int,
    delimiter: str | None,
    sheet: str | None,
    top: int,
    hints: int,
    color: bool | None,
    model_path: Path | None,
) -> None:
    """Why a document got its verdict: each sentence's orientation, highlighted terms, top terms, rewriting hints.

    \b
    Examples:
      orient explain examples/sales_posting.txt
      orient explain --text '每天拨打100个电话，完成本月销售指标。'
      orient explain examples/ --color | less -R
    """
    from pipeline.explain import explain_document, render_terminal

    inputs = _inputs_or_stdin(inputs, texts, "orient explain examples/sales_posting.txt")
    clf = _load(model_path)
    use_color = _use_color(color)
    failures: list[Failure] = []
    reading = Reading(text_field, id_field, encoding, input_format, max_bytes, delimiter, sheet)
    for n, doc in enumerate(_readable(texts, inputs, failures, reading)):
        if n:
            click.echo("\n" + "─" * 72 + "\n")
        page = render_terminal(explain_document(clf, doc.id, doc.text, top=top, hints=hints), use_color)
        click.echo(writable(page), color=use_color)
    _exit_if_failed(failures, "all others were explained")


@main.command()
@click.argument("inputs", nargs=-1)
@input_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to this file (atomically: it appears only when complete). Default: standard output, "
    "when that is not a terminal.",
)
@model_option
def report(
    inputs: tuple[str, ...],
    texts: tuple[str, ...],
    text_field: str,
    id_field: str,
    input_format: str,
    encoding: str | None,
    max_bytes: int,
    delimiter: str | None,
    sheet: str | None,
    output: Path | None,
    model_path: Path | None,
) -> None:
    """Write one self-contained HTML report: summary, histogram, sortable table, each document with its evidence.

    The file loads nothing from outside itself, so it opens offline and can be mailed as it is.

    \b
    Examples:
      orient report examples/ -o report.html
      orient report postings.jsonl -o report.html
    """
    from pipeline.explain import explain_document
    from pipeline.report import build_report

    inputs = _inputs_or_stdin(inputs, texts, "orient report examples/ -o report.html")
    if output is None and sys.stdout.isatty():
        raise click.UsageError("The report is an HTML file: name it with -o, e.g. orient report examples/ -o report.html")
    clf = _load(model_path)
    stream, atomic = _open_output(output, inputs)
    failures: list[Failure] = []
    reading = Reading(text_field, id_field, encoding, input_format, max_bytes, delimiter, sheet)
    progress = _Progress()
    try:
        docs = []
        for doc in _readable(texts, inputs, failures, reading):
            docs.append(explain_document(clf, doc.id, doc.text))
            progress.tick()
        if not docs:
            raise click.ClickException("No document could be read, so no report was written.")
        page = build_report(docs, clf.metadata, clf.path.stem, [(f.id, f.message) for f in failures])
        if atomic is None:
            # Bytes, so the page is UTF-8 as it declares, whatever the locale says about standard output.
            sys.stdout.buffer.write(page.encode("utf-8"))
            sys.stdout.flush()
    except BaseException:
        if atomic is not None:
            atomic.discard()
        raise
    if atomic is not None:
        stream.write(page)
        atomic.commit()
    progress.done()
    if output is not None:
        click.echo(f"orient: report of {len(docs)} document(s) written to {output}", err=True)
    _exit_if_failed(failures, "the report has all the others and names the skipped ones")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback unless told otherwise).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes, each with the model."
)
@click.option(
    "--max-body", type=click.IntRange(min=1), default=8 * 1024 * 1024, show_default=True, help="Largest request body, in bytes."
)
@click.option("--max-texts", type=click.IntRange(min=1), default=1000, show_default=True, help="Most texts in one API request.")
@click.option(
    "--max-text-bytes", type=click.IntRange(min=1), default=1024 * 1024, show_default=True, help="Largest text, in bytes."
)
@model_option
def serve(
    host: str, port: int, workers: int, max_body: int, max_texts: int, max_text_bytes: int, model_path: Path | None
) -> None:
    """Serve a page for people and a JSON API for programs (needs: pip install 'orient-zh[web]').

    \b
    Examples:
      orient serve                       # then open http://127.0.0.1:8000/
      orient serve --port 9000 --workers 2
      curl -s localhost:8000/api/score -d '{"text": "每天拨打100个电话，完成本月销售指标。"}'
    """
    try:
        import uvicorn
    except ImportError:
        raise click.ClickException("orient serve needs its web extra; install it with: pip install 'orient-zh[web]'.") from None
    _load(model_path)  # a missing or damaged model is one sentence here, before any worker starts
    if model_path is not None:
        os.environ["ORIENT_MODEL"] = str(model_path.resolve())
    os.environ.update(
        ORIENT_SERVE_MAX_BODY=str(max_body),
        ORIENT_SERVE_MAX_TEXTS=str(max_texts),
        ORIENT_SERVE_MAX_TEXT_BYTES=str(max_text_bytes),
    )
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"orient: serving on http://{shown}:{port}/ (API: /api/score, /api/info; Ctrl-C stops)", err=True)
    uvicorn.run("pipeline.web:app_from_environment", factory=True, host=host, port=port, workers=workers, log_level="warning")


def run() -> None:
    """Entry point: run the command group, ending quietly when the reader of our output goes away."""
    # numpy's BLAS would start a thread per core, which spin on the cores that --jobs processes need; orient
    # does no matrix work for them to share (scoring is elementwise). Set only here, in a process orient owns,
    # not on import, which would change the BLAS of a program that imports pipeline.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        main()
    except BrokenPipeError:
        # `orient score … | head -1`: the reader has gone; say nothing and stop.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)

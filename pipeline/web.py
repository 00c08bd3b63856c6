"""`orient serve`: a page for people who do not use a terminal, and a JSON API for programs.

Built on Starlette (an ASGI toolkit: routing, requests, a test client; no ORM or templates to carry) and
served by uvicorn, whose worker processes each load the model once. The page needs no script: a form
posts the text (or a file) and the answer is drawn on the server as the HTML report draws it, so a
result can be shared as a link (`/?text=…`). Everything is served by orient under a Content Security
Policy, and every piece of document text is escaped.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from pipeline import __version__
from pipeline.errors import OrientError
from pipeline.explain import explain_document
from pipeline.predict import Classifier
from pipeline.report import STYLE, csp_hash, document_html, esc

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may carry."""

    max_body: int = 8 * MIB
    max_texts: int = 1000
    max_text_bytes: int = MIB


class RequestError(Exception):
    """A bad request: an HTTP status and one sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


PAGE_STYLE = """
form textarea { width: 100%; min-height: 12rem; font: inherit; padding: .6rem; border: 1px solid var(--line);
                border-radius: .4rem; }
form .row { display: flex; flex-wrap: wrap; gap: .8rem; align-items: center; margin: .6rem 0; }
form button { font: inherit; padding: .4rem 1.2rem; border-radius: .4rem; border: 1px solid var(--mkt);
              background: var(--mkt); color: #fff; }
.error { color: #9f1239; font-weight: 600; }
@media (max-width: 40rem) { body { padding: 1rem .8rem 3rem; } }
"""
CSS = STYLE + PAGE_STYLE
CSP = f"default-src 'none'; style-src {csp_hash(CSS)}; img-src data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

TEXT = {
    "en": {
        "title": "orient: sales- or marketing-oriented?",
        "intro": "Paste a job posting or a plan, or choose a file: orient says how sales-oriented (product-centred) "
        "or marketing-oriented (customer-centred) its language is, and shows the words and sentences that made it so.",
        "text": "Text",
        "file": "or a file (.txt, .docx, .pdf, .html)",
        "score": "Score",
        "api": 'Programs: POST /api/score with {"text": "…"} or {"texts": ["…"]}; GET /api/info.',
    },
    "zh": {
        "title": "orient：销售导向还是营销导向？",
        "intro": "粘贴一份招聘启事或计划，或选择一个文件：orient 判断其语言是销售导向（以产品为中心）"
        "还是营销导向（以客户为中心），并标出起作用的词句。",
        "text": "文本",
        "file": "或上传文件（.txt、.docx、.pdf、.html）",
        "score": "分析",
        "api": '程序接口：POST /api/score，内容为 {"text": "…"} 或 {"texts": ["…"]}；GET /api/info。',
    },
}


def language(accept: str) -> str:
    """zh when the browser ranks a Chinese language above English, else en."""
    ranked = []
    for i, part in enumerate(accept.split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        ranked.append((-weight, i, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def _html(body: str, lang: str, status: int = 200) -> HTMLResponse:
    t = TEXT[lang]
    page = (
        f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(t['title'])}</title><style>{CSS}</style></head><body>"
        f'<header><h1>{esc(t["title"])}</h1><p class="meta">{esc(t["intro"])}</p></header>{body}'
        f'<p class="meta">{esc(t["api"])} orient {__version__}</p></body></html>\n'
    )
    return HTMLResponse(page, status, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"})


def _form(text: str, lang: str) -> str:
    t = TEXT[lang]
    return (
        '<form method="post" action="/" enctype="multipart/form-data">'
        f'<label for="text">{esc(t["text"])}</label><textarea id="text" name="text" lang="zh">{esc(text)}</textarea>'
        f'<div class="row"><label>{esc(t["file"])} <input type="file" name="file"></label>'
        f'<button type="submit">{esc(t["score"])}</button></div></form>'
    )


class App:
    """The routes, around one loaded model."""

    def __init__(self, clf: Classifier, limits: Limits) -> None:
        self.clf = clf
        self.limits = limits

    def _check_text(self, text: Any, where: str) -> str:
        if not isinstance(text, str):
            raise RequestError(422, f"{where} must be a string, not {_json_type(text)}.")
        if not text.strip():
            raise RequestError(422, f"{where} is empty.")
        if len(text.encode("utf-8", "surrogatepass")) > self.limits.max_text_bytes:
            raise RequestError(413, f"{where} is larger than the limit of {self.limits.max_text_bytes:,} bytes per text.")
        return text

    def _record(self, doc_id: str, text: str, explain: bool) -> dict[str, Any]:
        result = self.clf.explain(text) if explain else self.clf.score(text)
        return {"id": doc_id, **result.to_dict()}

    def _refuse_declared_size(self, request: Request, what: str) -> None:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.limits.max_body:
            raise RequestError(413, f"{what} is larger than the limit of {self.limits.max_body:,} bytes.")

    async def _body(self, request: Request) -> bytes:
        self._refuse_declared_size(request, "The request body")
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.limits.max_body:
                raise RequestError(413, f"The request body is larger than the limit of {self.limits.max_body:,} bytes.")
        return body

    async def score(self, request: Request) -> Response:
        """POST /api/score: {"text": …} gives one record, {"texts": […]} a list, in order; "explain": true adds sentences."""
        try:
            payload = json.loads(await self._body(request))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise RequestError(400, 'The body is not valid JSON; send {"text": "…"} or {"texts": ["…"]}.') from None
        if not isinstance(payload, dict) or ("text" in payload) == ("texts" in payload):
            raise RequestError(422, 'Send a JSON object with either "text" (a string) or "texts" (a list of strings).')
        explain = payload.get("explain", False)
        if not isinstance(explain, bool):
            raise RequestError(422, f'"explain" must be true or false, not {_json_type(explain)}.')
        if "text" in payload:
            return JSONResponse(self._record("text", self._check_text(payload["text"], '"text"'), explain))
        texts = payload["texts"]
        if not isinstance(texts, list):
            raise RequestError(422, f'"texts" must be a list of strings, not {_json_type(texts)}.')
        if not texts:
            raise RequestError(422, '"texts" is empty.')
        if len(texts) > self.limits.max_texts:
            raise RequestError(413, f'"texts" has {len(texts):,} texts; the limit is {self.limits.max_texts:,} per request.')
        checked = [self._check_text(t, f"texts[{i}]") for i, t in enumerate(texts)]
        return JSONResponse([self._record(f"text-{i}", t, explain) for i, t in enumerate(checked, start=1)])

    async def info(self, request: Request) -> Response:
        """GET /api/info: the model card."""
        meta = self.clf.metadata
        keys = ("name", "versions", "params", "label_counts", "cv", "verdict", "evaluation", "vocabulary_size", "sources")
        return JSONResponse({"orient": __version__, **{k: meta[k] for k in keys if k in meta}})

    async def health(self, request: Request) -> Response:
        """GET /healthz."""
        return JSONResponse({"status": "ok", "model": self.clf.metadata.get("name", "")})

    async def page(self, request: Request) -> Response:
        """GET /: the form, and with ?text=… its result; POST /: a pasted text or an uploaded file."""
        lang = language(request.headers.get("accept-language", ""))
        text = request.query_params.get("text", "")
        try:
            if request.method == "POST":
                text = await self._posted(request)
            if not text.strip():
                return _html(_form(text, lang), lang)
            text = self._check_text(text, "The text")
        except RequestError as exc:
            return _html(f'<p class="error">{esc(exc.message)}</p>{_form(text, lang)}', lang, exc.status)
        explained = explain_document(self.clf, "text", text)
        return _html(_form(text, lang) + document_html(explained, 1, lang), lang)

    async def _posted(self, request: Request) -> str:
        from starlette.datastructures import UploadFile

        self._refuse_declared_size(request, "The upload")
        try:
            form = await request.form(max_files=1, max_fields=4, max_part_size=self.limits.max_body)
        except Exception:  # the multipart parser's own errors: a malformed or oversized form
            raise RequestError(400, "The form could not be read; paste the text or choose one file.") from None
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            return _upload_text(upload.filename, await upload.read(), self.limits.max_text_bytes)
        text = form.get("text", "")
        return text if isinstance(text, str) else ""


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number"
    )


def _upload_text(filename: str, data: bytes, max_bytes: int) -> str:
    """The text of an uploaded file, read as orient reads files; one sentence if it is not a document."""
    from pipeline.formats import DOCUMENT_SUFFIXES, FormatError, extract_text
    from pipeline.readers import DecodeError, decode

    name = Path(filename).name
    try:
        if name.lower().endswith(DOCUMENT_SUFFIXES):
            return extract_text(Path(name), data, max_bytes=max_bytes)
        if len(data) > max_bytes:
            raise RequestError(413, f"{name} is larger than the limit of {max_bytes:,} bytes per text.")
        return decode(data, None)
    except (FormatError, DecodeError) as exc:
        message = str(exc) if str(exc).startswith(name) else f"{name} {exc}"
        raise RequestError(415, message.rstrip(".") + ".") from None


def create_app(clf: Classifier, limits: Limits | None = None) -> Starlette:
    """The ASGI application for a loaded model."""
    app = App(clf, limits or Limits())

    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestError)
        return JSONResponse({"error": exc.message}, exc.status)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"There is nothing at {request.url.path}; try /, /api/score or /api/info."}, 404)

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": f"{request.method} is not allowed on {request.url.path}."}, 405)

    return Starlette(
        routes=[
            Route("/", app.page, methods=["GET", "POST"]),
            Route("/api/score", app.score, methods=["POST"]),
            Route("/api/info", app.info, methods=["GET"]),
            Route("/healthz", app.health, methods=["GET"]),
        ],
        exception_handlers={RequestError: bad_request, 404: not_found, 405: not_allowed},
    )


def app_from_environment() -> Starlette:
    """The application as each uvicorn worker builds it: the model and limits that `orient serve` put in the environment."""
    from pipeline.predict import load

    model = os.environ.get("ORIENT_MODEL")
    try:
        clf = load(model) if model else load()
    except OrientError as exc:
        raise SystemExit(f"orient: {exc}") from None
    limits = Limits(
        int(os.environ.get("ORIENT_SERVE_MAX_BODY", Limits.max_body)),
        int(os.environ.get("ORIENT_SERVE_MAX_TEXTS", Limits.max_texts)),
        int(os.environ.get("ORIENT_SERVE_MAX_TEXT_BYTES", Limits.max_text_bytes)),
    )
    return create_app(clf, limits)

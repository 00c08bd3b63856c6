"""`orient serve` (issue 18): the JSON API and the page through the test client, a real server, a real browser."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import MARKETING_TEXT, SALES_TEXT

pytest.importorskip("starlette")
from starlette.testclient import TestClient

from pipeline.report import ZH
from pipeline.web import Limits, create_app, language


@pytest.fixture(scope="module")
def client(shipped: Any) -> TestClient:
    return TestClient(create_app(shipped, Limits(max_body=4000, max_texts=3, max_text_bytes=1500)))


def test_one_text_gives_the_record_orient_score_gives(client: TestClient, shipped: Any) -> None:
    r = client.post("/api/score", json={"text": SALES_TEXT})
    assert r.status_code == 200
    assert r.json() == {"id": "text", **json.loads(json.dumps(shipped.score(SALES_TEXT).to_dict()))}


def test_several_texts_come_back_in_order_and_explain_adds_sentences(client: TestClient, shipped: Any) -> None:
    r = client.post("/api/score", json={"texts": [MARKETING_TEXT, SALES_TEXT], "explain": True})
    assert r.status_code == 200
    records = r.json()
    assert [x["id"] for x in records] == ["text-1", "text-2"]
    assert [x["label"] for x in records] == [shipped.score(MARKETING_TEXT).label, shipped.score(SALES_TEXT).label]
    assert records[0]["sentences"] == json.loads(json.dumps(shipped.explain(MARKETING_TEXT).to_dict()["sentences"]))


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{broken", 400, 'The body is not valid JSON; send {"text": "…"} or {"texts": ["…"]}.'),
        (b'{"text": 3}', 422, '"text" must be a string, not a number.'),
        (b'{"texts": "one"}', 422, '"texts" must be a list of strings, not a string.'),
        (b'{"texts": ["ok", null]}', 422, "texts[1] must be a string, not null."),
        (b'{"text": "  "}', 422, '"text" is empty.'),
        (b'{"text": "x", "explain": "yes"}', 422, '"explain" must be true or false, not a string.'),
        (b"[1, 2]", 422, 'Send a JSON object with either "text" (a string) or "texts" (a list of strings).'),
        (b'{"texts": ["a", "b", "c", "d"]}', 413, '"texts" has 4 texts; the limit is 3 per request.'),
        (json.dumps({"text": "市" * 600}).encode(), 413, '"text" is larger than the limit of 1,500 bytes per text.'),
        (b'{"text": "' + b"x" * 5000 + b'"}', 413, "The request body is larger than the limit of 4,000 bytes."),
    ],
)
def test_bad_requests_get_one_sentence_and_the_server_keeps_serving(
    client: TestClient, body: bytes, status: int, error: str
) -> None:
    r = client.post("/api/score", content=body, headers={"content-type": "application/json"})
    assert (r.status_code, r.json()) == (status, {"error": error})
    assert client.post("/api/score", json={"text": SALES_TEXT}).status_code == 200


def test_info_and_health(client: TestClient, shipped: Any) -> None:
    info = client.get("/api/info").json()
    assert info["verdict"] == shipped.metadata["verdict"] and info["name"] == "orientation"
    assert client.get("/healthz").json() == {"status": "ok", "model": "orientation"}
    assert client.get("/nowhere").status_code == 404


def test_the_page_scores_a_shared_link_in_the_readers_language(client: TestClient, shipped: Any) -> None:
    text = "<script>alert(1)</script>" + MARKETING_TEXT
    url = "/?text=" + urllib.parse.quote(text)
    zh = client.get(url, headers={"accept-language": "zh-CN,zh;q=0.9,en;q=0.8"})
    en = client.get(url, headers={"accept-language": "en-GB,en;q=0.9"})
    assert zh.status_code == en.status_code == 200
    assert '<html lang="zh-CN">' in zh.text and "营销导向" in zh.text
    verdict = shipped.score(text).verdict
    assert ZH[verdict] in zh.text and "偏向销售的词" in zh.text and "Terms pulling towards sales" not in zh.text
    assert '<html lang="en">' in en.text and "marketing-oriented (customer-centred)" in en.text
    page = en.text
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert shipped.score(text).verdict in page and 'class="term marketing"' in page
    # Nothing from elsewhere, and a policy that forbids it; readable on a phone.
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert en.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert 'name="viewport" content="width=device-width' in page


def test_the_page_takes_an_uploaded_document_and_refuses_what_is_not_one(shipped: Any) -> None:
    import docx

    client = TestClient(create_app(shipped))
    buf = io.BytesIO()
    document = docx.Document()
    document.add_paragraph(SALES_TEXT)
    document.save(buf)
    ok = client.post("/", files={"file": ("jd.docx", buf.getvalue())})
    assert ok.status_code == 200 and shipped.score(SALES_TEXT).verdict in ok.text
    bad = client.post("/", files={"file": ("photo.docx", b"\x89PNG not a document")})
    assert bad.status_code == 415 and 'class="error"' in bad.text
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("header", "lang"), [("zh-CN,zh;q=0.9", "zh"), ("en-US,en;q=0.9,zh;q=0.8", "en"), ("fr, zh-TW;q=0.5", "zh"), ("", "en")]
)
def test_language_follows_the_browsers_order(header: str, lang: str) -> None:
    assert language(header) == lang


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "serve", "--port", str(port)], stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("orient serve did not answer /healthz within 60 s")
    yield base, proc
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.slow
def test_a_real_server_on_loopback_answers_and_stops(server: Any) -> None:
    base, proc = server
    request = urllib.request.Request(
        base + "/api/score", data=json.dumps({"text": SALES_TEXT}).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        assert json.loads(r.read())["id"] == "text"
    assert proc.poll() is None


@pytest.mark.browser
@pytest.mark.slow
def test_chromium_loads_a_shared_link(server: Any, tmp_path: Path, shipped: Any) -> None:
    from test_browser import CHROMIUM, _chromium

    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed")
    base, _ = server
    run = _chromium(tmp_path, "--dump-dom", base + "/?text=" + urllib.parse.quote(SALES_TEXT))
    assert run.returncode == 0, run.stderr[-2000:]
    assert shipped.score(SALES_TEXT).verdict in run.stdout
    assert run.stdout.count('class="term sales"') >= 2

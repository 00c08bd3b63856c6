"""Where a batch's time goes, per document (target 1's profile), measured the way a batch runs.

Each round takes the next chunk of documents (as many as `orient score --jobs 1` takes at once) and times, on the same
chunk: bare `jieba.lcut` on each raw text (HMM off), and each of orient's steps over the whole chunk in turn: read
the JSON lines (orient's reader: parse, check, make Documents), normalise, segment (and number each text's terms
at once, as a batch does), score the chunk together into its output lines (pipeline.batch: n-grams, model, gate,
evidence, JSON). Bare jieba runs
first in one round and last in the next: whichever runs first meets caches the other left behind.
Timing the steps one after another on real chunks keeps the CPU-cache effects between them that a hot
loop over one step would hide (jieba's dictionary evicts everything else). Medians over the rounds.

Prints JSON: microseconds per document for each step and for bare jieba, for the segmenter in
ORIENT_SEGMENTER, and the median over the rounds of orient's steps together minus bare jieba in the same round.

    python bench/stages.py FILE.jsonl [ROUNDS]
"""

import json
import statistics
import sys
import time

import jieba

import pipeline
from pipeline import batch, parallel, text
from pipeline.readers import DEFAULT_MAX_BYTES, Document, Lines

CHUNK = parallel.LOCAL_CHUNK_SIZE
path = sys.argv[1]
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 24
clf = pipeline.load()
segmenter = text.segmenter()
# Bare jieba's lcut on the dictionary orient's jieba segmenter already holds (a jieba.Tokenizer): a second
# copy in the process would make the two evict each other from the caches at every switch.
if hasattr(segmenter, "tokenizer"):
    lcut = segmenter.tokenizer.lcut
else:
    jieba.setLogLevel(60)
    jieba.initialize()
    lcut = jieba.lcut
with open(path, "rb") as fh:
    lines = fh.read().splitlines(keepends=True)
steps: dict[str, list[float]] = {}
extra: list[float] = []
clock = time.process_time


def timed(name: str, fn, items):
    start = clock()
    out = [fn(x) for x in items]
    steps.setdefault(name, []).append((clock() - start) / len(items) * 1e6)
    return out


numbers = batch.term_numbers(clf)
for r in range(rounds + 1):
    first = (r * CHUNK) % max(1, len(lines) - CHUNK)
    chunk = lines[first : first + CHUNK]
    raw = [json.loads(line)["text"] for line in chunk]
    if r % 2:
        timed("bare jieba.lcut", lambda t: lcut(t, HMM=False), raw)
    start = clock()
    docs = [
        d for d in Lines(path, 1, b"".join(chunk), len(chunk), DEFAULT_MAX_BYTES, "text", "id").parse() if isinstance(d, Document)
    ]
    steps.setdefault("read the JSON lines", []).append((clock() - start) / len(chunk) * 1e6)
    norm = timed("normalise", text.normalise_fast, [d.text for d in docs])
    numbered = timed("segment, and number the text's terms", lambda t: numbers(segmenter.cut(t)), norm)
    start = clock()
    batch.json_lines(clf, [d.id for d in docs], numbered)
    steps.setdefault("score the chunk into JSON lines (n-grams, model, gate, evidence)", []).append(
        (clock() - start) / len(numbered) * 1e6
    )
    if not r % 2:
        timed("bare jieba.lcut", lambda t: lcut(t, HMM=False), raw)
    if r == 0:  # the first round warms the memos, as the first chunks of a long batch do
        steps.clear()
    else:  # orient's steps over bare jieba, paired within the round: the machine's speed drifts between rounds
        extra.append(sum(v[-1] for k, v in steps.items() if k != "bare jieba.lcut") - steps["bare jieba.lcut"][-1])

print(
    json.dumps(
        {
            "segmenter": text.segmenter_name(),
            "rounds": rounds,
            "chunk": CHUNK,
            "us_per_doc": {name: statistics.median(v) for name, v in steps.items()},
            "extra_us_per_doc": statistics.median(extra),
        }
    )
)

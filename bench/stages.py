"""Where a batch's time goes, per document (target 1's profile): reading, normalising, segmenting, scoring, writing.

Prints JSON: microseconds per document for each stage (best of a few passes), for the segmenter in ORIENT_SEGMENTER.
"""

import io
import json
import sys
import time

import pipeline
from pipeline import text
from pipeline.readers import read_inputs
from pipeline.writers import make_writer

path = sys.argv[1]
clf = pipeline.load()
seg = text._segmenter()
docs = [d for d in read_inputs([path])]
texts = [d.text for d in docs]
for t in texts:  # warm the per-character and per-token memos, as a long batch would
    text.tokenize(t)


def best(fn, items, reps=3):
    # Timed passes drop each output at once, as a streaming batch does: holding thousands of results
    # would add garbage-collector passes over them to the stage's time. The outputs for the next stage
    # come from one more, untimed, pass.
    runs = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for x in items:
            fn(x)
        runs.append(time.perf_counter() - t0)
    return [fn(x) for x in items], min(runs) / len(items) * 1e6


stages = {}
t0 = time.perf_counter()
for _ in read_inputs([path]):
    pass
stages["read + parse JSON + check"] = (time.perf_counter() - t0) / len(docs) * 1e6
norm, stages["normalise"] = best(text._normalise_fast, texts)
words, stages["segment"] = best(seg.cut, norm)
terms, stages["filter terms"] = best(lambda ws: list(filter(None, map(text._terms.__getitem__, ws))), words)
results, stages["score (features, logit, evidence)"] = best(clf.score_tokens, terms)
records, stages["record (to_dict)"] = best(lambda r: r.to_dict(), results)
writer = make_writer("jsonl", io.StringIO())
_, stages["write JSON line"] = best(writer.write, records)
print(json.dumps({"segmenter": text.segmenter_name(), "us_per_doc": stages}))

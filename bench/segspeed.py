"""Segmentation throughput on one core, in one process: jieba vs rjieba with the project's settings (target 2).

Prints JSON: seconds per pass for each segmenter (passes interleaved), and the text size.
"""

import json
import sys
import time

from pipeline import config, segmenters, text

reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
with open(sys.argv[1], encoding="utf-8") as fh:
    texts = [text.normalise(json.loads(line)["text"]) for line in fh]
words = text.user_words()
segs = {"jieba": segmenters.JiebaSegmenter(words, config.cache_dir()), "rjieba": segmenters.RjiebaSegmenter(words)}
times: dict[str, list[float]] = {name: [] for name in segs}
for _ in range(reps):
    for name, seg in segs.items():
        t0 = time.perf_counter()
        for t in texts:
            seg.cut(t)
        times[name].append(time.perf_counter() - t0)
print(json.dumps({"times": times, "bytes": sum(len(t.encode("utf-8")) for t in texts), "docs": len(texts)}))

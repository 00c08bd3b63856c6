"""Baseline for target 1: a bare process that reads a JSONL file and calls jieba.lcut on each text."""

import json
import sys

import jieba

hmm = "--hmm" in sys.argv[2:]  # jieba.lcut's default is HMM on; the project segments with HMM off
with open(sys.argv[1], "rb") as fh:
    for line in fh:
        jieba.lcut(json.loads(line)["text"], HMM=hmm)

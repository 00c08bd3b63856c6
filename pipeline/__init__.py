"""orient: how sales-oriented or marketing-oriented is a Chinese business text, and why.

import pipeline
clf = pipeline.load()
result = clf.score("负责市场调研，洞察目标客户需求")
result.verdict, result.marketing_probability
"""

__version__ = "0.1.0"

from pipeline.errors import OrientError
from pipeline.predict import Classifier, load
from pipeline.result import Evidence, Result

__all__ = ["Classifier", "Evidence", "OrientError", "Result", "__version__", "load"]

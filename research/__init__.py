"""Research on the model, outside the package: the lever study and the evaluation report (`make evaluate`).

It needs a source checkout (the corpus, the evaluation sets, ../shared/realdev/) and is never installed.
"""

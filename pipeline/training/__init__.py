"""The training layer: builds the corpus, trains and evaluates models.

It uses the runtime (pipeline's other modules) and nothing in the runtime uses it; tests/test_layers.py
holds the imports to that.
"""

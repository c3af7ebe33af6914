"""Turning text into vectors: the models, the embedding cache, the machine's precision."""

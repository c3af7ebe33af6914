"""Scoring retrieval: eval sets, metrics, paired comparisons, BEIR collections."""

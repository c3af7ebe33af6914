"""Interview QA: ask interview transcripts questions, get the interviewee's own words back."""

__version__ = "0.3.0"

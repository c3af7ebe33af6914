"""Reading transcripts: formats, speakers, turns, passages."""

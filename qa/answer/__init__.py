"""From a question to quote cards: retrieval, quotes, cards, the engine."""

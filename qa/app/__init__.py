"""The page: the chat, the Archive and Evaluate tabs, kept quotes, votes."""

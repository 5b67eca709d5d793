"""The city talks first: its posts from its feeds, searchable from the chat (python -m bot.news)."""

"""Human handoff: an agent takes a chat over from the bot; `python -m bot.handoff list` shows the queue."""

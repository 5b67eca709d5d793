"""Where the problems are: the insights dashboard (bot/insights/dashboard.py)."""

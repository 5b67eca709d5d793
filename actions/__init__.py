"""Custom actions for the action server (rasa run actions), one module per feature."""

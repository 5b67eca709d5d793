"""Retraining the intent model from what agents labelled (python -m bot.retrain; see its __main__)."""

"""Korean NLU components for the Rasa pipeline."""

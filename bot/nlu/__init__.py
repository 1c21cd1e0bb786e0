"""Custom Rasa NLU components (the danger safety net comes here)."""

"""Custom Rasa NLU components: the age and country extractor, the safety net and its table,
the language guard and the intent classifier saved as plain arrays."""

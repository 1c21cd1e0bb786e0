"""Talk Together: settings, spaCy pipeline, NLU components, tracker store, CLI."""

"""Command-line entry points over the engine (``matchmaker ...``)."""

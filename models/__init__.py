"""The learning side of framestance: models trained on the labels, and the command-line entry point."""

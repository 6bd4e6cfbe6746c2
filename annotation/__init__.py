"""The labeling side of framestance: codebooks, Label Studio configs, articles, passages and tasks."""

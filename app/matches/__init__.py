"""Matches: pairs proposed by a committed run, and their lifecycle."""

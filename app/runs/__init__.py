"""Matching runs: submission, execution on a task queue or a process pool, results."""

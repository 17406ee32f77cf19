"""Append-only audit log: who changed what, when — never personal values."""

"""Closed vocabularies of identity."""

from enum import StrEnum


class Subject(StrEnum):
    MENTEE = "mentee"
    MENTOR = "mentor"


class DetachReason(StrEnum):
    """Why an organisation detaches its record from the person it was linked to."""

    DIFFERENT_PERSON = "different_person"
    """Namesakes born the same day: the records are two people."""
    DATA_ENTRY_ERROR = "data_entry_error"
    """The identity given for this record was mistyped."""
    OTHER = "other"


class IdentityEventKind(StrEnum):
    LINKED = "linked"
    """The record now shares its identity with at least one other record."""
    DETACHED = "detached"
    """The organisation detached its record: it is no longer linked to anyone."""

"""Closed vocabularies shared by the API, the database and the CSV templates."""

from enum import StrEnum

# The needs vocabulary belongs to the matching engine; the API and the database reuse it.
from app.matching.problem import Need

__all__ = [
    "LANGUAGE_PATTERN",
    "Activity",
    "MentorKind",
    "Need",
    "OrganisationKind",
    "Role",
    "RuralZone",
]


class OrganisationKind(StrEnum):
    ASSOCIATION = "association"
    COMPANY = "company"
    PUBLIC_BODY = "public_body"


class MentorKind(StrEnum):
    EMPLOYEE = "employee"
    CIVIL_SERVANT = "civil_servant"
    STUDENT = "student"
    VOLUNTEER = "volunteer"


class RuralZone(StrEnum):
    """France Ruralités Revitalisation classification of the commune."""

    NONE = "none"
    FRR = "frr"
    FRR_PLUS = "frr_plus"


class Activity(StrEnum):
    """School or work status of a young person."""

    MIDDLE_SCHOOL = "middle_school"
    HIGH_SCHOOL = "high_school"
    VOCATIONAL_TRAINING = "vocational_training"
    HIGHER_EDUCATION = "higher_education"
    EMPLOYED = "employed"
    JOB_SEEKING = "job_seeking"
    NOT_IN_EDUCATION = "not_in_education"


class Role(StrEnum):
    ADMIN = "admin"
    ASSOCIATION = "association"
    COMPANY_HR = "company_hr"
    PUBLIC_BODY = "public_body"


LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
"""ISO 639 language codes, lower case (``fr``, ``ar``, ``wol``)."""

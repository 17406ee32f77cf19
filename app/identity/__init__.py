"""Pseudonymous identity: one young person (or volunteer) across organisations.

A record may carry an identity (first name, last name, birth date) at referral; only
keyed hashes of its normalised form are kept (``keys``), one per configured key version.
Records sharing a hash are *linked*: one person for matching (``people``), for the
diagnostic (``sql``), and for what each organisation learns (``service.elsewhere``).
"""

"""Bulk imports of mentors and mentees (CSV or JSON), with reports and idempotency keys."""

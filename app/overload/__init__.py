"""Graceful overload: a bounded number of requests in progress, a bounded queue, and an
immediate 503 past it."""

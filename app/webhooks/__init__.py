"""Webhooks: organisations' endpoints, signed events recorded in an outbox, deliveries."""

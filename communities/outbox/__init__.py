"""The email outbox: shared plumbing that every app sends through (it sits in the base layer
so that communities, surveys, rewards and feedback can all import it)."""

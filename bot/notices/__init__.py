"""Subscribers to the domain's events and the sender's send-time renderers: digests, nudges, sold-out notices."""

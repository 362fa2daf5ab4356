"""What the bot tells the groups unasked: the subscribers to the domain's events and the sender's send-time
renderers (digests, nudges, sold-out notices), and the texts of the scheduled posts."""

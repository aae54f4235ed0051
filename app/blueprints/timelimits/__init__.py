"""Time limits (时限): the policy of acknowledge, arrive and resolve limits, escalation steps, deadlines."""

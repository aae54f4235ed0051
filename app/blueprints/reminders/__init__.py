"""Reminders (催办/督办): the SLA clocks' timers, their firing, and the supervision level they raise."""

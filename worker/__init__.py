"""The background worker process: RQ queues, the scheduler and the periodic sweeps."""

"""The job kernel: one queue, one worker, a table of job types (types.py)."""

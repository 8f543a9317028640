"""Audit log: one record per push, pull, delete and tag/project/repository change (semantics 3.3)."""

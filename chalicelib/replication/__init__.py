"""Replication and proxy caching: registry endpoints, policies, executions and pull-through projects."""

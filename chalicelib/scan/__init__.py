"""Vulnerability scanning: scanner registrations, scan jobs, reports (semantics-2.6.md section 2)."""

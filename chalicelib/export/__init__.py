"""CVE export (semantics-2.6.md section 1): criteria, selection, CSV parts, executions."""

"""The operations jobs of Harbor's Administration pages: garbage collection, audit-log purge, upload purge."""

"""Deployment definitions and the local stack (launcher, emulated API Gateway, resource creation)."""

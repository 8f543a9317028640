"""Users, passwords, Basic and bearer authentication, the token service and authorization."""

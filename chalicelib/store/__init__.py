"""Data access: DynamoDB items, S3 objects, SSM parameters. I/O only, no business rules."""

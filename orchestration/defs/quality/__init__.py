"""Data quality: the archive reconciled with DynamoDB, the sensors that drive it, and alerts."""

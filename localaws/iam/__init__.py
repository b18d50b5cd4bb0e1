"""Identity and access: who signed a request and whether its principal may make it."""

"""The local AWS endpoint (``server.py``): one port, every request routed to its backend by service."""

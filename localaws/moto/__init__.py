"""The moto host (``host.py``): moto's server app for the services moto serves, made durable by ``state.py``."""

"""What a request is on the wire: its service and operation, whether it mutates, and AWS's errors in each
service's protocol. Shared by the gateway, the moto host and the fault injection."""

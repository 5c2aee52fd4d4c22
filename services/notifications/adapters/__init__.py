"""PostgreSQL and SMS gateways of the notifications service."""

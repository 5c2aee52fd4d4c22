"""How events and people reach the notifications service: its projection and its CLI."""

"""SMS notifications: a confirmation on booking, sent at most once per message."""

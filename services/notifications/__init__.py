"""SMS notifications: confirmation, reminder and notices of a moved or cancelled time, each
sent at most once, when due, outside quiet hours."""

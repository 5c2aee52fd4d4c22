"""Pure rules of the SMS notifications: which message, with which words, under which key."""

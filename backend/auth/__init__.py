"""Authentication and authorisation: tokens, passwords, callers, project access."""

"""Domain logic and its SQL, shared by acts (and the CLI through them); never reads a request."""

"""Domain logic and its SQL, shared by acts: what two handler modules need lives here."""

"""The flow domain: definitions and their validation, status changes, history, lists, writes."""

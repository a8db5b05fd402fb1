"""The framework's pure core: the call a handler gets, the routing table, errors, the envelope."""

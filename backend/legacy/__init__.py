"""What the legacy PHP backend did, once: PHP's scalar rules, the wire formats, ids, the clock."""

"""crucible-bench."""

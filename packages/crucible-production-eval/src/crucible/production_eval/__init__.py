"""crucible-production-eval."""

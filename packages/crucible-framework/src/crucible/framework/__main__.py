"""``python -m crucible.framework`` runs ``crux``."""

from crucible.framework.cli import entry

entry()

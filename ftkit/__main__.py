"""``python -m ftkit`` runs the command line."""

from ftkit.cli import main

main()

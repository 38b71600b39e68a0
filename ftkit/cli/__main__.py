"""``python -m ftkit.cli`` runs the command line."""

from ftkit.cli import main

main()

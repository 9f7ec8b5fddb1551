"""Run the emulators: python -m server.emulators --host 127.0.0.1 --port 8001 [--users-file roster.json]."""

from .app import main

main()

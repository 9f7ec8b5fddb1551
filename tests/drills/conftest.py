"""Fault drills run the app on its public address beside the emulators, like the identity tests."""

from tests.identity.conftest import clock, emulator, http_server, live, overrides, settings  # noqa: F401

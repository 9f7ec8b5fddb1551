"""Emulators of WeChat, WeCom and a CAS server for development, demos and tests (never production)."""

from .app import create_emulator_app, main, state_of
from .config import CasUser, EmulatorConfig, load_users_file

__all__ = [
    "CasUser",
    "EmulatorConfig",
    "create_emulator_app",
    "load_users_file",
    "main",
    "state_of",
]

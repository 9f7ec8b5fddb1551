"""Clearance items: one module per item (see base.py), found by registry.py."""

"""Lixiao (离校): graduate departure clearance."""

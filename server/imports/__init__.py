"""Roster and departmental record imports from CSV and XLSX files."""

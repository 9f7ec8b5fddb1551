"""Read-only reports for the dashboard: progress, lists, exports and the audit log."""

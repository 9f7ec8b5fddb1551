"""The student's use cases: reading their clearance (refreshing pulled records), item actions, submitting."""

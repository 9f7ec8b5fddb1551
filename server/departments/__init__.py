"""Departmental data: staff roles, the operator console's services, credentials of departmental systems."""

"""Sessions: domain (rules), routes (the API), wire (JSON)."""

"""Functions: domain (rules and deployment), routes (the API), wire (JSON)."""

"""Function calls: domain (rules), routes (the API), wire (JSON); runs go through emulator/execution."""

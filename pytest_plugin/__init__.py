"""pytest plugin for the CDF Functions emulator (registered through the pytest11 entry point)."""

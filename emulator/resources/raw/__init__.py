"""RAW: databases, tables and rows of schemaless JSON columns (all 11 operations of the spec)."""

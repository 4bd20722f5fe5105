"""Data sets: create, list/filter, aggregate count, retrieve by ids, update (CDF has no delete)."""

"""Data modeling instances: nodes and edges, with list/filter/search/aggregate, query and sync."""

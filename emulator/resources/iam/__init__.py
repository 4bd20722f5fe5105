"""Identity and access: token inspection, the requester's user profile, and groups."""

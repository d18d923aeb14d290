"""Identity service: the Keystone v3 API (users, projects, roles, tokens, catalog)."""

"""HTTP API plumbing shared by every service: app factory, errors, auth, servers."""

"""Identity's resource logic (domains, projects, users, groups, roles, grants, catalog), kept out of the routers."""

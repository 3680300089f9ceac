"""Users, groups and routing status: /api/v2/users..., /api/v2/groups..."""

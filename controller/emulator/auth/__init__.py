"""OAuth client credentials: POST /oauth/token and the bearer tokens it issues."""

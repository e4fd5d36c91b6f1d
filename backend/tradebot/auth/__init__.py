"""Who is calling: Auth0 access tokens, the login directory (user -> client) and operators."""

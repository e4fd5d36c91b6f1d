"""Exchange API keys of each client, encrypted under a versioned master key."""

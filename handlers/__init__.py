"""Platform-neutral command handlers: an actor and parsed arguments in, replies out."""

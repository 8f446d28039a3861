"""Application wiring: configuration, the command line and the chat channel adapters."""

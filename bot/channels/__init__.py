"""Channel adapters: translate between a channel's messages and the engine's inbound events and replies."""

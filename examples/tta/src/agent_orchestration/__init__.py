"""Routes a player's request to the agent that handles it."""

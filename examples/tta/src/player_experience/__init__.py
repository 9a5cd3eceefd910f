"""What a player sees of a session."""

"""A promotion run inside pytest: its hooks, gate items, run state, verdict, cache and test log."""

"""A promotion run inside pytest: its options, hooks, gate items, run state, verdict, cache
and test log."""

"""A tiny shop: a cart, prices in cents, and shipping."""

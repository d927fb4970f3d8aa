"""HTTP layer: thin controllers over the services."""

"""``volcredit load``: read content files, validate everything, then replace the store's data."""

"""Database engines: Django's own, with what Mestring's deployment modes need added."""

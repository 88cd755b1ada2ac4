"""Self-service's presenters: a model loaded by a selector or an access function, turned into the dict an
API response (or a page) shows. Nothing here queries or writes."""

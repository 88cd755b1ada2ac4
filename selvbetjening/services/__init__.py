"""Writes of self-service data: ``<entity>_<verb>``, keyword-only, atomic, raising domain errors."""

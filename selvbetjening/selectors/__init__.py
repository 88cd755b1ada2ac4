"""Reads of self-service data: query shape and visibility, one ``access_<entity>`` and
``<entities>_visible_to`` per entity."""

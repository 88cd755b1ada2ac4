"""Reads of self-service data: visibility (``<entities>_visible_to``), query shapes, lists and figures. The
access functions that fetch one object for a caller and log the read are in ``selvbetjening.access``."""

"""Writes of the welfare-technology app, one module per entity family."""

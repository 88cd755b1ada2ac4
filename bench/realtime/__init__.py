"""Realtime benchmark: Mestring's websocket stream against a raw websockets server (python -m bench.realtime)."""

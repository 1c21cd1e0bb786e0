"""Custom actions for Talk Together, one module per concern.

Safety routes never live here: they are static responses, so they answer even when this
action server is down.
"""

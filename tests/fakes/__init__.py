"""Fake platform API servers that run on loopback, so tests drive the real SDK clients over HTTP."""

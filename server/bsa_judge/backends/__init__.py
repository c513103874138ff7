"""Upstream model endpoints (judges and models under test)."""

"""Analyses written against the GraphStore interface: pathways (and later gaps, consortia)."""

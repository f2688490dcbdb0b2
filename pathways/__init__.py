"""Thriving Pathways: who can refer whom to what, as a queryable graph."""

__version__ = "0.1.0"

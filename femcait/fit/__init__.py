"""Fitting simulated depth profiles to measured ones (`femcait fit`)."""

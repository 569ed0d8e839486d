"""Adaptive meshes: meshes that follow the profiles, and the transfer of the state."""

"""The discretisation layer: measures and coordinate weights, the edge-based flux, materials,
the residual of one BDF step and the CAIT boundary conditions."""

"""The solver layer: the discrete problem with its Newton solver, and time-step control."""

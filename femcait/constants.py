"""Physical constants in SI units: CODATA 2022, the values scipy.constants gives (a test
checks that they agree). Importing scipy.constants costs ~0.12 s of every start."""

e = 1.602176634e-19
"""Elementary charge, C (exact)."""

k = 1.380649e-23
"""Boltzmann constant, J/K (exact)."""

epsilon_0 = 8.8541878188e-12
"""Vacuum permittivity, F/m."""

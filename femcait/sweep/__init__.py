"""Parameter sweeps: one study file with a `sweep:` section expanded into many cases."""

from femcait.sweep.expansion import Case, Sweep, expand_sweep

__all__ = ["Case", "Sweep", "expand_sweep"]

"""Writers of a run's output folder (the output contract of the README)."""

"""Exceptions raised by femcait."""


class FemcaitError(Exception):
    """Base class of all errors raised by femcait."""


class StudyError(FemcaitError):
    """A study file or study dictionary is invalid (bad user input)."""


class SolverError(FemcaitError):
    """The solver failed, e.g. Newton did not converge at the minimum time step."""


class OutputError(FemcaitError):
    """The output folder cannot be written (e.g. it holds data that is not a femcait run)."""

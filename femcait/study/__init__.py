"""Study files: the validated description of a CAIT simulation (schema, units, loading)."""

from femcait.study.loader import load_study, load_yaml, study_from_dict
from femcait.study.schema import Study

__all__ = ["Study", "load_study", "load_yaml", "study_from_dict"]

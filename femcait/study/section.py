"""The base of every study-file model."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Base of the study models: unknown keys are errors and instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

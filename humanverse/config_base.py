"""The base every config section inherits, so that typos in YAML fail loudly instead of being ignored."""

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A typed config section: unknown keys are errors, values are validated on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

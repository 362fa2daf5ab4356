"""What every config section shares: a strict frozen model, errors placed at one key, and job-key names."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic_core import PydanticCustomError

PathKey = tuple[str | int, ...]


class Finding(NamedTuple):
    """A problem found across sections, located by its path in the YAML (the loader maps it to a line)."""

    path: PathKey
    message: str


def at_field(field: str | PathKey, message: str) -> PydanticCustomError:
    """An error raised by a model validator that belongs to one of the model's keys, not to the whole mapping."""
    path = (field,) if isinstance(field, str) else field
    return PydanticCustomError("at_field", "{message}", {"message": message, "field": path})


def _no_colon(value: str) -> str:
    if ":" in value or not value.strip():
        raise ValueError(f"must be non-empty and hold no ':' (it is part of job ids), got {value!r}")
    return value


# Buy ids, flash sale ids and column names are parts of job ids such as "cutoff:{buy_id}:{group}".
JobKey = Annotated[str, AfterValidator(_no_colon)]


class Section(BaseModel):
    # coerce_numbers_to_str: an alias such as 99 or a room id written without quotes is still text.
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

"""Physical quantities in study files: parsing with pint and conversion to SI floats.

A value is either a bare number, taken as SI, or a string with units such as "100 um",
"0.25 eV" or "1.4e28 m^-3". Strings holding a bare number ("1.4e28", which YAML reads as
text) are SI numbers too. Energies convert to joules, temperatures to kelvin.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from femcait.study import quantity_memo

if TYPE_CHECKING:
    import pint


@functools.cache
def unit_registry() -> pint.UnitRegistry:
    """The unit registry, built on first use (bare numbers and remembered texts never
    need it, see `femcait.study.quantity_memo`; pint itself takes ~0.2 s to import).

    Decimal arithmetic keeps decimal prefixes exact ("100 um" -> 1e-4 m). Pint's parsed
    definitions are cached in the user cache folder (0.05 s instead of 0.4 s per start),
    safely when many processes start at once (`femcait.study.unit_cache`).
    """
    from femcait.study.unit_cache import build_registry

    return build_registry()


ELEMENTARY_CHARGE = 1.602176634e-19
"""Elementary charge in C (exact in the SI); also the size of 1 eV in J."""

MAX_QUANTITY_TEXT = 100
"""Longest text parsed as a quantity ("1.4e28 m^-3" has 11 characters)."""

ERROR_TYPE = "femcait_invalid"
"""Pydantic error type of femcait's own validation errors (see `invalid`)."""

_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "dimensionless": ("a number", ""),
    "[length]": ("a length", "100 um"),
    "[time]": ("a time", "3 h"),
    "[electric_potential]": ("a voltage", "5 V"),
    "[energy]": ("an energy", "0.25 eV"),
    "[temperature]": ("a temperature", "300 K"),
    "1/[length]**3": ("a number density", "1.4e28 m^-3"),
    "[length]**2/[time]": ("a diffusion coefficient", "2.6e-21 m^2/s"),
    "[length]/[time]": ("a speed", "0.05 nm/s"),
    "[current]/[length]**2": ("a current density", "10 uA/cm^2"),
}


class UnitError(ValueError):
    """A value that is not a finite quantity of the expected dimension."""

    def __init__(self, key: str, detail: str) -> None:
        super().__init__(f"{key}: {detail}")
        self.key = key
        self.detail = detail


def format_value(value: object) -> str:
    """Show a user-supplied value the way it reads in a YAML file (shortened if long)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None:
        text = "null"
    elif isinstance(value, dict):
        text = "a mapping"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def invalid(detail: str, path: str = "") -> PydanticCustomError:
    """A validation error with a readable message; `path` extends the error's key path."""
    return PydanticCustomError(ERROR_TYPE, "{detail}", {"detail": detail, "path": path})


def to_si(value: object, dimension: str, key: str) -> float:
    """Convert `value` to an SI float after checking its pint `dimension`.

    `value` is an int or float (taken as SI) or a string with units, e.g. "100 um";
    `dimension` is a pint dimensionality such as "[length]" or "1/[length]**3";
    `key` names the value in error messages. Raises `UnitError` (a ValueError) for
    booleans, other types, unknown units, a wrong dimension or a non-finite result.
    """
    noun, example = _DESCRIPTIONS.get(dimension, (f"a quantity of dimension {dimension}", ""))
    expected = f"got {format_value(value)}, expected {noun}"
    if example:
        expected += f" (e.g. '{example}')"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UnitError(key, expected)
    if isinstance(value, str) and (known := quantity_memo.recalled(value, dimension)) is not None:
        return known
    try:
        magnitude, found = quantity_si(value)
    except OverflowError:
        raise UnitError(key, f"got {format_value(value)}, too large for a number") from None
    except ValueError:
        raise UnitError(key, expected) from None
    if found is not None and found != unit_registry().get_dimensionality(dimension):
        raise UnitError(key, expected)
    if not math.isfinite(magnitude):
        raise UnitError(key, f"got {format_value(value)}, must be a finite number")
    if found is not None:
        quantity_memo.remember(value, dimension, magnitude)
    return magnitude


def quantity_si(value: int | float | str) -> tuple[float, Any]:
    """The SI magnitude of a number or a string with units, and its pint dimensionality
    (None for a bare number, which is SI and fits any dimension).

    Raises ValueError for text that is not a quantity, OverflowError for an integer
    beyond the float range.
    """
    if not isinstance(value, str):
        return float(value), None
    try:
        return float(value), None
    except ValueError:
        pass
    if not value.strip():
        raise ValueError("empty text")
    if len(value) > MAX_QUANTITY_TEXT:  # pint takes seconds for 10^4 characters
        raise ValueError(f"longer than {MAX_QUANTITY_TEXT} characters")
    try:
        quantity = unit_registry().Quantity(value).to_base_units()
        return float(quantity.magnitude), quantity.dimensionality
    except Exception:  # pint raises many kinds of errors on malformed text
        raise ValueError(f"not a quantity: {value!r}") from None


def si_magnitude(value: int | float | str) -> float:
    """The SI magnitude of a number or a string with units ("200 meV" -> 3.2e-20);
    ValueError if it is not one."""
    try:
        return quantity_si(value)[0]
    except OverflowError:
        raise ValueError(f"too large for a number: {format_value(value)}") from None


def _quantity(dimension: str) -> BeforeValidator:
    """A pydantic validator that converts a field's value with `to_si`."""

    def validate(value: Any, info: ValidationInfo) -> float:
        try:
            return to_si(value, dimension, info.field_name or "value")
        except UnitError as exc:
            raise invalid(exc.detail) from None

    return BeforeValidator(validate)


Number = Annotated[float, _quantity("dimensionless")]
Length = Annotated[float, _quantity("[length]")]
Time = Annotated[float, _quantity("[time]")]
Voltage = Annotated[float, _quantity("[electric_potential]")]
Energy = Annotated[float, _quantity("[energy]")]
Temperature = Annotated[float, _quantity("[temperature]")]
NumberDensity = Annotated[float, _quantity("1/[length]**3")]
Diffusivity = Annotated[float, _quantity("[length]**2/[time]")]
Speed = Annotated[float, _quantity("[length]/[time]")]
CurrentDensity = Annotated[float, _quantity("[current]/[length]**2")]

PositiveNumber = Annotated[Number, Field(gt=0)]
PositiveLength = Annotated[Length, Field(gt=0)]
NonNegativeLength = Annotated[Length, Field(ge=0)]
PositiveTime = Annotated[Time, Field(gt=0)]
PositiveEnergy = Annotated[Energy, Field(gt=0)]
PositiveTemperature = Annotated[Temperature, Field(gt=0)]
PositiveNumberDensity = Annotated[NumberDensity, Field(gt=0)]
PositiveDiffusivity = Annotated[Diffusivity, Field(gt=0)]
PositiveSpeed = Annotated[Speed, Field(gt=0)]
PositiveCurrentDensity = Annotated[CurrentDensity, Field(gt=0)]

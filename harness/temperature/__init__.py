"""Temperature methods. Importing this package registers every method module."""

from harness.temperature import fixed, linear  # noqa: F401
from harness.temperature.base import CONTROLLERS, build_controller, validate_method  # noqa: F401

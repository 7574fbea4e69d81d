"""The test suite. Importing `harness` here, before any test module or conftest loads torch,
pins the CPU numerics (harness/numerics.py) for every test process."""

import harness  # noqa: F401

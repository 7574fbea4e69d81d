"""Every dataset of the papers as a registered, versioned spec; loading into records; scoring."""

from harness.benchmarks.load import DatasetError, load_benchmark
from harness.benchmarks.spec import BenchmarkSpec, DatasetOverride, get_spec, registry

__all__ = ["BenchmarkSpec", "DatasetError", "DatasetOverride", "get_spec", "load_benchmark", "registry"]

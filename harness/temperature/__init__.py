"""Temperature methods, one module each; every module registers its controller by name
(harness.temperature.base.register) and is found by `load_methods`."""

"""Generation backends behind one interface (harness.sampling.base.Sampler)."""

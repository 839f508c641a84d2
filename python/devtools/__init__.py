"""Developer tools, not shipped: data generation, benchmarks, the tutorial reference."""

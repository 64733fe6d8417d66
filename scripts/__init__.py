"""Developer tooling: the local stack, the test driver's helpers, the container smoke and the benchmark."""

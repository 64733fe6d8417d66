"""`make bench`: the whole pipeline's cost per order, measured against the machine's ceilings in one run."""

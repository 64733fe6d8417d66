"""Runs `make bench` (`python -m scripts.bench`): exits 1 when a target is missed."""
import sys

from scripts.bench.cli import main

sys.exit(main())

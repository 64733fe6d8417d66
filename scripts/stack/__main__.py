"""`python -m scripts.stack run|up|down|status|env [--profile NAME]`: see scripts/stack/cli.py."""
import sys

from scripts.stack.cli import main

sys.exit(main())

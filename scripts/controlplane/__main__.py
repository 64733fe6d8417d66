"""`python -m scripts.controlplane up|down|verify`."""
from scripts.controlplane.cli import main

main()

"""Makes the OpenTelemetry packages look not installed to a process that has this folder's parent first on its
PYTHONPATH (the bench's "no SDK" setting, scripts/bench/tracing.py).

The installed `opentelemetry` is a namespace package (PEP 420: its distributions ship no __init__.py), and a
regular package found earlier on the path wins over namespace portions, so every `import opentelemetry…` lands
here and fails exactly as it does when nothing is installed. Every other package stays byte for byte the same,
which a second virtualenv without the SDK would not guarantee."""
raise ModuleNotFoundError("No module named 'opentelemetry' (hidden by scripts/bench/no_sdk for the bench)",
                          name="opentelemetry")

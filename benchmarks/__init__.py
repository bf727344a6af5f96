"""Benchmarks of the program and the trigger: ``python benchmarks/run.py`` (see its docstring)."""

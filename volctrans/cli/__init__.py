"""Thin command modules: each exposes add_arguments(parser) and run(args) -> exit code."""

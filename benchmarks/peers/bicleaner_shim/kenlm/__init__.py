"""Import-only stand-in for kenlm: bicleaner-hardrules imports it at start-up even with --disable_lm_filter,
which is how the benchmark runs it. Any real use fails loudly."""


class Model:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("kenlm is not installed: run bicleaner-hardrules with --disable_lm_filter")

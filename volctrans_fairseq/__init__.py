"""fairseq --user-dir plugin for volctrans. Imported by its basename, so the name must stay unique.

Registers the `volctrans_multilingual` task: fairseq's translation_multi_simple_epoch plus ScaleBiO-style bilevel
data-source weighting.
"""

from volctrans_fairseq.tasks import bilevel_multilingual  # noqa: F401  (registers the task)

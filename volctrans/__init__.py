"""volctrans: a multilingual machine-translation production system (fairseq training, CTranslate2 serving)."""

__version__ = "0.1.0"

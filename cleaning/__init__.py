"""Heuristic and learned cleaning of parallel and monolingual corpora (the first stage of the pipeline).

Public entry points: `CleanConfig` / `load_config` (cleaning/config.py), `Engine` (cleaning/engine.py) for
in-memory batches, and `clean_file` (cleaning/pipeline.py) for streaming files, parallel or monolingual.
"""

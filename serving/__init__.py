"""Serving: CTranslate2 export, batch translation, HTTP service, benchmarks."""

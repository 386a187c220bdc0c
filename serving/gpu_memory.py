"""Peak GPU memory of whatever runs while a block runs (a subprocess, a worker process), read through NVML.

One engine at a time runs on the GPU during a benchmark, so the device's memory in use (NVML's `used`, what
nvidia-smi shows) sampled every `interval` seconds, minus what was in use before the block started, is that
engine's footprint: CUDA context, weights, caches and activations, whichever process holds them. Caching allocators
(PyTorch's, CTranslate2's) keep their peak until the process ends, so sampling rarely misses it.

Without NVML (the `nvidia-ml-py` package, module `pynvml`) or without a GPU, `peak_mb` stays None and `why` says so.
"""

from __future__ import annotations

import threading


class GpuMemoryMonitor:
    def __init__(self, device_index: int = 0, interval: float = 0.01):
        self.device_index = device_index
        self.interval = interval
        self.peak_mb: float | None = None
        self.baseline_mb: float | None = None
        self.why: str | None = None
        self._handle = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._max_used = 0

    def _used(self) -> int:
        import pynvml

        return int(pynvml.nvmlDeviceGetMemoryInfo(self._handle).used)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._max_used = max(self._max_used, self._used())

    def __enter__(self) -> "GpuMemoryMonitor":
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(self.device_index)
            self._max_used = baseline = self._used()
        except ImportError:
            self.why = "no NVML (the nvidia-ml-py package is not installed)"
            return self
        except Exception as error:  # pynvml.NVMLError: no driver, no device
            self.why = f"no GPU visible to NVML ({error})"
            return self
        self.baseline_mb = round(baseline / 2**20, 1)
        self._thread = threading.Thread(target=self._poll, name="gpu-memory", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._max_used = max(self._max_used, self._used())
        self.peak_mb = round(self._max_used / 2**20 - self.baseline_mb, 1)
        import pynvml

        pynvml.nvmlShutdown()

"""Host-overhead probe for the GPU machine: is a slow fairseq update the GPU's work or the host's launches?

Prints one table: the time of one tiny kernel launch (eager PyTorch, synchronised at the end only), and the time
of one forward+backward of a transformer-base-shaped torch.nn.Transformer (6+6 layers, d512, ffn 2048) in fp16
autocast at a few batch shapes, with the achieved TFLOP/s. A launch time far above ~5 µs, or a step time flat in
the batch size, means eager training is bound by the host, not by the GPU.

    python benchmarks/gpu/microbench.py [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import time

import torch


def launch_us(n: int = 5000) -> float:
    x = torch.zeros(16, device="cuda")
    for _ in range(100):
        x.add_(1)
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n):
        x.add_(1)
    torch.cuda.synchronize()
    return (time.perf_counter() - start) / n * 1e6


def transformer_step_ms(batch: int, length: int, repeats: int = 10) -> tuple[float, float]:
    torch.manual_seed(0)
    model = torch.nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                                 dim_feedforward=2048, dropout=0.1, batch_first=True).cuda()
    head = torch.nn.Linear(512, 16000).cuda()
    src = torch.randn(batch, length, 512, device="cuda")
    tgt = torch.randn(batch, length, 512, device="cuda")
    labels = torch.randint(0, 16000, (batch * length,), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.float16):
            out = head(model(src, tgt))
            loss = torch.nn.functional.cross_entropy(out.view(-1, 16000).float(), labels)
        loss.backward()

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / repeats
    parameters = sum(p.numel() for p in model.parameters()) + sum(p.numel() for p in head.parameters())
    flops = 6 * parameters * batch * length  # forward + backward ≈ 6 FLOPs per parameter per token (no attention)
    return seconds * 1e3, flops / seconds / 1e12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    rows = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "launch_us": launch_us(), "steps": []}
    print(f"device {rows['device']}, torch {rows['torch']}")
    print(f"tiny kernel launch: {rows['launch_us']:.1f} µs")
    print("| batch × length | tokens | fwd+bwd ms | TFLOP/s |\n|---|---|---|---|")
    for batch, length in [(8, 32), (64, 32), (256, 32), (512, 40)]:
        ms, tflops = transformer_step_ms(batch, length)
        rows["steps"].append({"batch": batch, "length": length, "ms": ms, "tflops": tflops})
        print(f"| {batch} × {length} | {batch * length} | {ms:.1f} | {tflops:.1f} |")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()

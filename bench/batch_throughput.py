"""Throughput of edgelite.batch.predict with 1 and 2 workers, and Ray's overhead per batch.

    python bench/batch_throughput.py [--model ../shared/zoo/mobilenet_v2_f32.tflite] [--rows 256]

For each worker count it runs the model over ``--rows`` random images and over a quarter of
them (datasets of ``4 * workers`` blocks); images per second is the difference in rows over the
difference in wall time, which cancels the actors' start-up and Ray's fixed costs. It prints
that rate and the scaling factor of 2 workers over 1. The overhead per batch is the time Ray adds
to the interpreter's own work: (wall time x workers - summed invoke time) / batches, where the
invoke time is measured in the same process by a serial loop over the same rows,
both over the rows that the two jobs differ by.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def serial_seconds(content: bytes, rows: np.ndarray) -> float:
    from edgelite import Interpreter
    it = Interpreter(model_content=content)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    for row in rows[:3]:  # warm-up: first invokes pack weights and fault pages in
        it.set_tensor(inp["index"], row[None])
        it.invoke()
    start = time.perf_counter()
    for row in rows:
        it.set_tensor(inp["index"], row[None])
        it.invoke()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO.parent / "shared" / "zoo" / "mobilenet_v2_f32.tflite"))
    ap.add_argument("--rows", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=16)
    args = ap.parse_args()

    import ray

    from edgelite import Interpreter
    from edgelite.batch import predict
    content = Path(args.model).read_bytes()
    detail = Interpreter(model_content=content).get_input_details()[0]
    shape = [args.rows, *[int(s) for s in detail["shape"][1:]]]
    rows = np.random.default_rng(0).uniform(-1, 1, shape).astype(detail["dtype"])
    one = serial_seconds(content, rows[:32]) / 32
    print(f"model {Path(args.model).name}: serial invoke {1000 * one:.1f} ms per image "
          f"({1 / one:.1f} images/s on one core)")

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    rates = {}
    def wall(workers: int, n: int) -> float:
        ds = ray.data.from_numpy(rows[:n]).repartition(4 * workers).materialize()
        begin = time.perf_counter()
        out = predict(ds, content, batch_size=args.batch_size, num_workers=workers).materialize()
        assert out.count() == n
        return time.perf_counter() - begin

    small = max(args.batch_size * 2, args.rows // 4)
    for workers in (1, 2):
        # two jobs of different sizes: their difference cancels actor start-up and Ray's fixed costs
        w_small, w_full = wall(workers, small), wall(workers, args.rows)
        rates[workers] = (args.rows - small) / (w_full - w_small)
        batches = (args.rows - small) / args.batch_size
        overhead = ((w_full - w_small) * workers - one * (args.rows - small)) / batches
        print(f"{workers} worker(s): {rates[workers]:.1f} images/s ({args.rows} rows in {w_full:.2f} s, "
              f"{small} in {w_small:.2f} s), Ray overhead ~{1000 * overhead:.1f} ms per batch of "
              f"{args.batch_size}")
    print(f"scaling 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")
    ray.shutdown()


if __name__ == "__main__":
    main()

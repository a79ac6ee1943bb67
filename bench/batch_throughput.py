"""Throughput of edgelite.batch.predict with 1 and 2 workers, and Ray's overhead per batch.

    python bench/batch_throughput.py [--model ../shared/zoo/mobilenet_v2_f32.tflite] [--rows 256]

For each worker count it runs the model over ``--rows`` random images (a dataset of
``4 * workers`` blocks) and prints images per second in the steady state (from the first batch
out, once the actors have started, to the last) and the scaling factor of 2 workers over 1. The overhead per batch is the time Ray adds
to the interpreter's own work: (wall time x workers - summed invoke time) / batches, where the
invoke time is measured in the same process by a serial loop over the same rows.
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
    for workers in (1, 2):
        ds = ray.data.from_numpy(rows).repartition(4 * workers).materialize()
        start = time.perf_counter()
        stamps, count = [], 0
        for batch in predict(ds, content, batch_size=args.batch_size, num_workers=workers).iter_batches(
                batch_size=None):
            count += len(batch["error"])
            stamps.append((time.perf_counter(), count))
        wall = time.perf_counter() - start
        assert count == args.rows
        # steady state: from the first batch out (actors started) to the last
        (t0, n0), (t1, n1) = stamps[0], stamps[-1]
        rates[workers] = (n1 - n0) / (t1 - t0) if t1 > t0 else float("nan")
        overhead = (wall * workers - one * args.rows) / -(-args.rows // args.batch_size)
        print(f"{workers} worker(s): {rates[workers]:.1f} images/s steady, wall {wall:.2f} s with actor "
              f"start-up ({t0 - start:.2f} s to the first batch), Ray overhead ~{1000 * overhead:.1f} ms "
              f"per batch of {args.batch_size}")
    print(f"scaling 2 workers / 1 worker: {rates[2] / rates[1]:.2f}x")
    ray.shutdown()


if __name__ == "__main__":
    main()

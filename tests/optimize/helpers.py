"""Shared helpers for the optimize tests: calibration data and running models."""
import numpy as np

from conftest import MANIFEST, zoo_data, zoo_inputs

import edgelite


def _like(b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if np.issubdtype(b.dtype, np.integer):
        return rng.integers(b.min(), b.max() + 1, size=b.shape).astype(b.dtype)
    return rng.uniform(b.min(), b.max(), size=b.shape).astype(b.dtype)


def representative(key: str, n: int = 4, seed: int = 0):
    """n samples drawn uniformly over the range of the zoo's stored inputs. For a model with
    several signatures (its stored arrays named after signature inputs): {signature: samples},
    each sample a dict {signature input name: array}."""
    rng = np.random.default_rng(seed)
    if is_multi_signature(key):
        z = zoo_data(key)
        return {sig: [{name: _like(z[name], rng) for name in spec["inputs"]} for _ in range(n)]
                for sig, spec in MANIFEST[key]["signatures"].items()}
    base = zoo_inputs(key)
    return [[_like(b, rng) for b in base] for _ in range(n)]


def is_multi_signature(key: str) -> bool:
    return len(MANIFEST[key].get("signatures", {})) > 1


def run_signature_scenario(content: bytes, key: str, engine: str = "edgelite", steps: int = 5) -> list[np.ndarray]:
    """The zoo's scenario for signatures_f32: 'infer' on x, ``steps`` 'train' calls on (x, y)
    (which update the model's variables), then 'infer' on x again; returns every output."""
    z = zoo_data(key)
    it = _interpreter(content, engine)
    infer, train = it.get_signature_runner("infer"), it.get_signature_runner("train")

    def call(runner, **arrays):
        details = runner.get_input_details()
        return [np.array(v) for v in runner(**{k: quantize_input(a, details[k]) for k, a in arrays.items()}).values()]

    outs = call(infer, x=z["x"])
    for _ in range(steps):
        outs += call(train, x=z["x"], y=z["y"])
    return outs + call(infer, x=z["x"])


def _interpreter(content: bytes, engine: str):
    if engine == "litert":
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
        return Interpreter(model_content=content,
                           experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    return edgelite.Interpreter(model_content=content)


def quantize_input(x: np.ndarray, detail: dict) -> np.ndarray:
    if np.dtype(detail["dtype"]) == x.dtype:
        return x
    scale, zp = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale) + zp, info.min, info.max).astype(detail["dtype"])


def run_model(content: bytes, inputs: list, engine: str = "edgelite") -> list[np.ndarray]:
    it = _interpreter(content, engine)
    details = it.get_input_details()
    for d, x in zip(details, inputs):
        if tuple(d["shape"]) != x.shape:
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], quantize_input(x, d))
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def assert_outputs_match(ref: list, got: list, what: str) -> None:
    assert len(ref) == len(got)
    for j, (a, b) in enumerate(zip(ref, got)):
        assert a.dtype == b.dtype and a.shape == b.shape, f"{what} out{j}: {a.dtype}{a.shape} vs {b.dtype}{b.shape}"
        if a.dtype.kind in "iub":
            assert np.array_equal(a, b), f"{what} out{j}: {int(np.sum(a != b))} integer values differ"
        else:
            tol = 1e-5 * max(1.0, float(np.max(np.abs(a))) if a.size else 1.0)
            diff = float(np.max(np.abs(a.astype(np.float64) - b))) if a.size else 0.0
            assert diff <= tol, f"{what} out{j}: max|diff| {diff:.3g} > {tol:.3g}"


__all__ = ["representative", "run_model", "run_signature_scenario", "is_multi_signature",
           "assert_outputs_match", "MANIFEST"]

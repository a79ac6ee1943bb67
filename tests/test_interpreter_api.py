"""edgelite.Interpreter's API against LiteRT's documented behaviour.

Every behavioural test runs twice: on edgelite and on ai_edge_litert (skipped when
LiteRT is not installed), which proves the two behave alike.
"""
import numpy as np
import pytest

from conftest import MANIFEST, zoo_inputs, zoo_path

MLP = "mlp_dynamic_f32"
pytestmark = pytest.mark.skipif(MLP not in MANIFEST, reason="zoo not available")


def _litert():
    mod = pytest.importorskip("ai_edge_litert.interpreter")
    return mod


@pytest.fixture(params=["edgelite", "litert"])
def engine(request):
    """(Interpreter class, OpResolverType) of one engine."""
    if request.param == "edgelite":
        from edgelite.interpreter import Interpreter, OpResolverType
        return Interpreter, OpResolverType
    mod = _litert()
    return mod.Interpreter, mod.OpResolverType


def _make(engine, key=MLP, **kw):
    Interpreter, Resolver = engine
    return Interpreter(model_path=str(zoo_path(key)),
                       experimental_op_resolver_type=Resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES, **kw)


def _details_equal(a, b, where=""):
    assert set(a) == set(b), f"{where}: keys {sorted(a)} != {sorted(b)}"
    for k in a:
        va, vb = a[k], b[k]
        if isinstance(va, dict):
            _details_equal(va, vb, f"{where}.{k}")
        elif isinstance(va, np.ndarray):
            assert isinstance(vb, np.ndarray) and va.dtype == vb.dtype, f"{where}.{k}: {va!r} vs {vb!r}"
            np.testing.assert_array_equal(va, vb, err_msg=f"{where}.{k}")
        elif isinstance(va, list):
            assert len(va) == len(vb)
            for i, (x, y) in enumerate(zip(va, vb)):
                if isinstance(x, dict):
                    _details_equal(x, y, f"{where}.{k}[{i}]")
                else:
                    assert x == y, f"{where}.{k}[{i}]"
        elif isinstance(va, tuple):
            assert type(vb) is tuple and len(va) == len(vb)
            for x, y in zip(va, vb):
                assert type(x) is type(y) and (x == y or abs(x - y) < 1e-12), f"{where}.{k}: {va} vs {vb}"
        else:
            assert va == vb and type(va) is type(vb), f"{where}.{k}: {va!r} vs {vb!r}"


# -- details: identical to LiteRT's on zoo models ---------------------------------------
DETAIL_MODELS = [k for k in ["mlp_dynamic_f32", "mobilenet_v2_int8io", "ops_control_flow_f32", "signatures_f32",
                             "sparse_mlp_f32", "lstm_text_dyn", "ops_matmul_q_int16x8"] if k in MANIFEST]


@pytest.mark.parametrize("key", DETAIL_MODELS)
def test_details_match_litert(key):
    lite = _litert()
    from edgelite.interpreter import Interpreter
    ours = Interpreter(model_path=str(zoo_path(key)))
    ref = lite.Interpreter(model_path=str(zoo_path(key)))
    for a, b in zip(ours.get_input_details(), ref.get_input_details()):
        _details_equal(a, b, "input")
    for a, b in zip(ours.get_output_details(), ref.get_output_details()):
        _details_equal(a, b, "output")
    assert ours.num_subgraphs() == ref.num_subgraphs()
    for sg in range(ref.num_subgraphs()):
        mine, theirs = ours.get_tensor_details(sg), ref.get_tensor_details(sg)
        assert len(mine) == len(theirs)
        for a, b in zip(mine, theirs):
            _details_equal(a, b, f"tensor {b['index']}")
    assert ours.get_signature_list() == ref.get_signature_list()
    assert ours._get_full_signature_list() == ref._get_full_signature_list()
    mine, theirs = ours._get_ops_details(), ref._get_ops_details()
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs):
        _details_equal(a, b, f"op {b['index']}")
    for key_ in ref.get_signature_list():
        ra, rb = ours.get_signature_runner(key_), ref.get_signature_runner(key_)
        for name, d in rb.get_input_details().items():
            _details_equal(ra.get_input_details()[name], d, f"sig input {name}")


# -- constructor --------------------------------------------------------------------------
def test_constructor_errors(engine):
    Interpreter, Resolver = engine
    with pytest.raises(ValueError, match="must be specified"):
        Interpreter()
    with pytest.raises(ValueError, match="both provide"):
        Interpreter(model_path=str(zoo_path(MLP)), model_content=b"x")
    with pytest.raises(ValueError):
        Interpreter(model_path="/nonexistent/model.tflite")
    with pytest.raises(ValueError):
        Interpreter(model_content=b"garbage" * 10)
    with pytest.raises(ValueError, match="num_threads should be int"):
        Interpreter(model_path=str(zoo_path(MLP)), num_threads="2")
    with pytest.raises(ValueError, match="num_threads should >= 1"):
        Interpreter(model_path=str(zoo_path(MLP)), num_threads=0)
    with pytest.raises(ValueError, match="Unrecognized passed in op resolver type"):
        Interpreter(model_path=str(zoo_path(MLP)), experimental_op_resolver_type=7)
    assert {m.name for m in Resolver} == {"AUTO", "BUILTIN", "BUILTIN_REF", "BUILTIN_WITHOUT_DEFAULT_DELEGATES"}


def test_model_content_and_threads(engine):
    Interpreter, _ = engine
    content = zoo_path(MLP).read_bytes()
    it = Interpreter(model_content=content, num_threads=1)
    it.allocate_tensors()
    x = zoo_inputs(MLP)[0][:1]
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    assert it.get_tensor(it.get_output_details()[0]["index"]).shape == (1, 5)


# -- misuse --------------------------------------------------------------------------------
def test_invoke_before_allocate(engine):
    it = _make(engine)
    with pytest.raises(RuntimeError):
        it.invoke()
    i = it.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.get_tensor(i)
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.set_tensor(i, np.zeros((1, 20), np.float32))
    with pytest.raises(ValueError, match="allocate_tensors"):
        it.tensor(i)()


def test_set_tensor_checks(engine):
    it = _make(engine)
    it.allocate_tensors()
    i = it.get_input_details()[0]["index"]
    with pytest.raises(ValueError, match="FLOAT64 but expected type FLOAT32"):
        it.set_tensor(i, np.zeros((1, 20)))
    with pytest.raises(ValueError, match="Got 3 but expected 2"):
        it.set_tensor(i, np.zeros((1, 1, 20), np.float32))
    with pytest.raises(ValueError, match="Got 21 but expected 20 for dimension 1"):
        it.set_tensor(i, np.zeros((1, 21), np.float32))
    with pytest.raises(ValueError, match="FLOAT64"):
        it.set_tensor(i, [[0.0] * 20])


def test_bad_tensor_index(engine):
    it = _make(engine)
    it.allocate_tensors()
    for bad in (100000, -1):
        with pytest.raises(ValueError, match="Invalid tensor index"):
            it.get_tensor(bad)
        with pytest.raises(ValueError, match="Invalid tensor index"):
            it.set_tensor(bad, np.zeros(1, np.float32))
        with pytest.raises(ValueError, match="Invalid tensor index"):
            it.tensor(bad)()
    with pytest.raises(ValueError, match="Invalid subgraph index"):
        it.get_tensor(0, 5)
    with pytest.raises(ValueError, match="subgraph_index is out of range"):
        it.get_tensor_details(3)
    with pytest.raises(ValueError, match="Invalid node index"):
        it._get_op_details(1000)


def test_resize_errors(engine):
    it = _make(engine)
    i = it.get_input_details()[0]["index"]
    with pytest.raises(RuntimeError):
        it.resize_tensor_input(100000, [1, 20])
    const = next(d["index"] for d in it.get_tensor_details() if d["name"].endswith("MatMul"))
    with pytest.raises(RuntimeError):
        it.resize_tensor_input(const, [1, 5])
    with pytest.raises(RuntimeError, match="only allows mutating unknown dimensions"):
        it.resize_tensor_input(i, [3, 7], strict=True)
    it.resize_tensor_input(i, [3, 20], strict=True)
    assert list(it.get_input_details()[0]["shape"]) == [3, 20]


def test_resize_requires_allocate(engine):
    it = _make(engine)
    it.allocate_tensors()
    i = it.get_input_details()[0]["index"]
    it.resize_tensor_input(i, [4, 20])
    with pytest.raises(RuntimeError):
        it.invoke()
    with pytest.raises(ValueError):
        it.set_tensor(i, np.ones((4, 20), np.float32))
    it.allocate_tensors()
    it.set_tensor(i, np.ones((4, 20), np.float32))
    it.invoke()
    assert it.get_tensor(it.get_output_details()[0]["index"]).shape == (4, 5)
    assert list(it.get_output_details()[0]["shape"]) == [4, 5]
    it.resize_tensor_input(i, [4, 20])  # same shape: stays allocated
    it.invoke()


def test_signature_runner_errors(engine):
    it = _make(engine)
    with pytest.raises(ValueError, match='Invalid signature_key provided: "nope"'):
        it.get_signature_runner("nope")
    runner = it.get_signature_runner()
    name = it.get_signature_list()["serving_default"]["inputs"][0]
    with pytest.raises(ValueError, match="Invalid Input name"):
        runner(foo=np.zeros((1, 20), np.float32))
    with pytest.raises(ValueError, match="expected 1 vs provided 0"):
        runner()
    with pytest.raises(ValueError, match="FLOAT64"):
        runner(**{name: np.zeros((2, 20))})
    out = runner(**{name: np.ones((3, 20), np.float32)})
    assert list(out) == it.get_signature_list()["serving_default"]["outputs"]
    assert next(iter(out.values())).shape == (3, 5)
    assert set(runner.get_input_details()) == {name}
    two = _make(engine, "signatures_f32")
    with pytest.raises(ValueError, match="None is only allowed when the model has 1 SignatureDef"):
        two.get_signature_runner()


def test_copies_do_not_alias(engine):
    it = _make(engine)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    x = np.ones((1, 20), np.float32)
    it.set_tensor(i, x)
    x[:] = 100.0  # must not change what the interpreter holds
    it.invoke()
    y1 = it.get_tensor(o)
    y1[:] = -1.0  # get_tensor gives a copy
    it.invoke()
    y2 = it.get_tensor(o)
    np.testing.assert_array_equal(it.get_tensor(i), np.ones((1, 20), np.float32))
    assert not np.all(y2 == -1.0)


def test_tensor_view_and_guard(engine):
    it = _make(engine)
    it.allocate_tensors()
    i, o = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    inp, out = it.tensor(i), it.tensor(o)
    inp().fill(0.5)
    it.invoke()
    first = out().copy()
    inp().fill(2.0)
    it.invoke()
    assert not np.array_equal(first, out())
    np.testing.assert_array_equal(out(), it.get_tensor(o))
    held = inp()[0]  # a slice of a view keeps internal memory referenced
    with pytest.raises(RuntimeError, match="reference to internal data"):
        it.invoke()
    del held
    it.invoke()


def test_reset_all_variables_returns_none(engine):
    it = _make(engine, "signatures_f32")
    assert it.reset_all_variables() is None
    assert it.num_subgraphs() == 3


def test_preserve_all_tensors_keeps_intermediates(engine):
    it = _make(engine, experimental_preserve_all_tensors=True)
    it.allocate_tensors()
    x = zoo_inputs(MLP)[0][:1]
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    ops = it._get_ops_details()
    first_fc = int(ops[0]["outputs"][0])
    h = it.get_tensor(first_fc)
    assert h.shape[0] == 1 and np.isfinite(h).all()



# -- edgelite engine details ------------------------------------------------------------------
@pytest.mark.parametrize("num_threads, expected", [(None, 1), (1, 1), (2, 2)])
def test_blas_thread_count_during_invoke_then_restored(num_threads, expected):
    from edgelite.interpreter import BlasThreads, Interpreter
    controls = BlasThreads.controls()
    if not controls:
        pytest.skip("no controllable BLAS library in this process")
    get, set_ = controls[0]
    before = get()
    outside = 3 if before != 3 else 4  # a count the interpreter must not keep
    set_(outside)
    try:
        it = Interpreter(model_path=str(zoo_path(MLP)), num_threads=num_threads)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], zoo_inputs(MLP)[0][:1])
        seen = []
        it.set_profiler(lambda timing: seen.append(get()))
        it.invoke()
        assert seen and set(seen) == {expected}  # LiteRT: num_threads=None means one thread
        assert get() == outside
    finally:
        set_(before)


def test_node_data_kinds_on_zoo_models():
    from edgelite.kernels.base import Node, data_kind
    from edgelite.reader import load_model

    def kinds(key):
        sg = load_model(str(zoo_path(key))).main
        return {data_kind(Node(op, i, sg)) for i, op in enumerate(sg.operators)}

    assert kinds("mobilenet_v2_f32") == {"float"}
    assert "int8" in kinds("mobilenet_v2_int8") and "hybrid" not in kinds("mobilenet_v2_int8")
    assert kinds("mobilenet_v2_dyn") == {"float", "hybrid"}  # float32 activations, int8 weights
    assert kinds("ops_matmul_q_int16x8") == {"int16"}


def test_allocate_prepares_but_defers_run_only_buffers(monkeypatch):
    """allocate_tensors validates and sizes every node; work buffers appear on the first invoke."""
    monkeypatch.setenv("EDGELITE_KERNELS", "reference")  # the reference kernels' padded buffers
    from edgelite.interpreter import Interpreter
    from edgelite.kernels.conv import Conv2D, DepthwiseConv2D
    it = Interpreter(model_path=str(zoo_path("mobilenet_v2_f32")))
    it.allocate_tensors()
    ex = it._runtime.executor(0)
    convs = [p.kernel for p in ex._placed if isinstance(p.kernel, (Conv2D, DepthwiseConv2D))]
    assert convs and all(k.padded is None and getattr(k, "weights", None) is None for k in convs)
    it.set_tensor(it.get_input_details()[0]["index"], zoo_inputs("mobilenet_v2_f32")[0])
    it.invoke()
    assert all(k.padded is not None or getattr(k, "pointwise", False) for k in convs)


def test_folding_keeps_outputs_prepare_already_computed(monkeypatch):
    """A DEQUANTIZE of constant float16 weights is folded at allocate; a kernel exposing
    constant_outputs() has its array kept as is (no second copy), with the same results."""
    from edgelite.interpreter import Interpreter
    from edgelite.kernels.quantize import Dequantize
    key = "mobilenet_v2_f16"
    x = zoo_inputs(key)[0]

    def run():
        it = Interpreter(model_path=str(zoo_path(key)))
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return it, it.get_tensor(it.get_output_details()[0]["index"])

    # eager folding at allocate: make every float16 weight consumer ask for its values in prepare
    from edgelite.kernels.conv import Conv2D, DepthwiseConv2D
    from edgelite.kernels.matmul import FullyConnected
    for cls in (Conv2D, DepthwiseConv2D, FullyConnected):
        monkeypatch.setattr(cls, "prepare_reads_constants", True)
    _, copied = run()
    kept = []
    original = Dequantize.constant_outputs

    def constant_outputs(self):
        outs = original(self)
        kept.extend(outs)
        return outs
    monkeypatch.setattr(Dequantize, "constant_outputs", constant_outputs, raising=False)
    it, direct = run()
    np.testing.assert_array_equal(direct, copied)
    ex = it._runtime.executor(0)
    assert kept and all(any(ex.buffers[t] is a for t in ex._consts) for a in kept)


def test_lookup_pass_cache_lives_only_during_lookup_all():
    from edgelite.kernels.base import Node, lookup, lookup_all, lookup_pass_cached
    from edgelite.reader import load_model
    sg = load_model(str(zoo_path(MLP))).main
    nodes = [Node(op, i, sg) for i, op in enumerate(sg.operators)]
    calls = []

    def analysis():
        calls.append(1)
        return len(calls)
    assert lookup_pass_cached("k", analysis) == 1 and lookup_pass_cached("k", analysis) == 2
    from edgelite.kernels import base
    seen = []
    original = base.lookup

    def spying_lookup(node):
        seen.append(lookup_pass_cached("k", analysis))
        return original(node)
    base.lookup = spying_lookup
    try:
        classes = lookup_all(nodes)
    finally:
        base.lookup = original
    assert set(seen) == {3} and classes == [lookup(n) for n in nodes]
    assert lookup_pass_cached("k", analysis) == 4  # the pass's cache is gone

"""A synthetic model for the viewer's scale tests."""
from __future__ import annotations

import numpy as np

from edgelite.ir import Model, Subgraph


def synthetic_model(n_ops: int = 5000, block: int = 10, blocks_per_stage: int = 25):
    """A float model of ``n_ops`` element-wise ops named in scopes stage_s/block_b, with
    residual connections, like a deep network's graph."""
    sg = Subgraph(name="main")
    x = sg.add_tensor("input", (1, 16))
    sg.inputs = [x]
    one = sg.add_constant("one", np.ones((16,), np.float32))
    cur, skip = x, x
    for i in range(n_ops):
        b, j = divmod(i, block)
        scope = f"stage_{b // blocks_per_stage}/block_{b}"
        out = sg.add_tensor(f"{scope}/op_{j}/out", (1, 16))
        if j == block - 1:
            sg.add_operator("ADD", [cur, skip], [out])
            skip = out
        elif j % 3 == 1:
            sg.add_operator("RELU", [cur], [out])
        else:
            sg.add_operator("MUL" if j % 3 else "ADD", [cur, one], [out])
        cur = out
    sg.outputs = [cur]
    return Model(subgraphs=[sg], description="synthetic")

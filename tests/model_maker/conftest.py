import numpy as np
import pytest

from edgelite.ir import Model, Subgraph


def tiny_backbone(size: int = 16, filters: int = 16, seed: int = 0) -> Model:
    """A feature-vector .tflite built with edgelite.ir: strided 3x3 CONV_2D + RELU, flattened."""
    rng = np.random.default_rng(seed)
    sg = Subgraph(name="main")
    x = sg.add_tensor("image", (1, size, size, 3))
    w = sg.add_constant("w", (rng.normal(size=(filters, 3, 3, 3)) / 3).astype(np.float32))
    b = sg.add_constant("b", (rng.normal(size=filters) * 0.1).astype(np.float32))
    h = sg.add_tensor("h", (1, size // 2, size // 2, filters))
    sg.add_operator("CONV_2D", [x, w, b], [h],
                    {"padding": 0, "stride_w": 2, "stride_h": 2, "fused_activation_function": 1})
    n = (size // 2) ** 2 * filters
    f = sg.add_tensor("features", (1, n))
    sg.add_operator("RESHAPE", [h, sg.add_constant("shape", np.array([-1, n], np.int32))], [f])
    sg.inputs, sg.outputs = [x], [f]
    return Model(subgraphs=[sg])


@pytest.fixture(scope="session")
def digits_folder(tmp_path_factory):
    """scikit-learn's digits (1,797 8x8 images) as a folder of PNGs, one subfolder per class."""
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    from PIL import Image
    d = sklearn_datasets.load_digits()
    root = tmp_path_factory.mktemp("digits")
    for i, (img, label) in enumerate(zip(d.images, d.target)):
        folder = root / f"digit_{label}"
        folder.mkdir(exist_ok=True)
        Image.fromarray((img * 255 / 16).astype(np.uint8)).save(folder / f"{i:04d}.png")
    return root


@pytest.fixture(scope="session")
def digits_split(digits_folder):
    from edgelite.model_maker import DataLoader
    data = DataLoader.from_folder(digits_folder, seed=0)
    return data.split(0.8)


@pytest.fixture(scope="session")
def tiny_spec():
    from edgelite.model_maker import ImageBackbone
    return ImageBackbone(tiny_backbone(filters=8), name="tiny")


@pytest.fixture(scope="session")
def digits_model(digits_split, tiny_spec):
    from edgelite.model_maker import image_classifier
    train, _ = digits_split
    return image_classifier.create(train, model_spec=tiny_spec, progress=False)


def synthetic_set(n_per_class: int = 12, classes: int = 3, size: int = 12, seed: int = 0):
    """Images whose class is a colour: easily separable, for fast unit tests."""
    rng = np.random.default_rng(seed)
    colours = np.array([[220, 30, 30], [30, 220, 30], [30, 30, 220], [220, 220, 30]])[:classes]
    images, labels = [], []
    for c in range(classes):
        for _ in range(n_per_class):
            img = colours[c] + rng.normal(0, 25, (size, size, 3))
            images.append(np.clip(img, 0, 255).astype(np.uint8))
            labels.append(c)
    return images, labels

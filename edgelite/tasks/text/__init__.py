"""Text tasks: ``from edgelite.tasks import text`` as ``from tflite_support.task import text``."""
from .bert_nl_classifier import BertNLClassifier, BertNLClassifierOptions
from .nl_classifier import NLClassifier, NLClassifierOptions
from .text_embedder import TextEmbedder, TextEmbedderOptions

__all__ = ["NLClassifier", "NLClassifierOptions", "BertNLClassifier", "BertNLClassifierOptions",
           "TextEmbedder", "TextEmbedderOptions"]

"""Audio pre-processing shared by the audio tasks (tflite-support's ``AudioPreprocessor``).

The input tensor's metadata (``AudioProperties``) gives the sample rate and channel count the
model wants; the whole float32 input tensor is one buffer of interleaved samples. A buffer of
another format or size is refused with tflite-support's messages.
"""
from __future__ import annotations

import numpy as np

from ..audio.tensor_audio import AudioFormat, TensorAudio
from ..core.model import TaskError, TaskModel, content_properties


class AudioPreprocessor:
    def __init__(self, model: TaskModel, input_index: int = 0):
        self.model = model
        self.input_index = input_index
        if len(model.inputs) != 1:
            raise TaskError(f"Audio models are expected to have 1 input, found {len(model.inputs)}")
        metadata = model.input_metadata(input_index)
        if metadata is None:
            raise TaskError(f"input tensor {input_index} is missing TensorMetadata.")
        kind, properties = content_properties(metadata)
        channels = int(properties.get("channels", 0)) if kind == "AudioProperties" else 0
        rate = int(properties.get("sample_rate", 0)) if kind == "AudioProperties" else 0
        if channels <= 0 or rate <= 0:
            raise TaskError("Missing audio format metadata in the model.")
        detail = model.inputs[input_index]
        if detail["dtype"] != np.float32:
            raise TaskError("Type mismatch for input tensor: expected float32, got "
                            f"{np.dtype(detail['dtype']).name}.")
        size = int(np.prod(detail["shape"]))
        if size % channels:
            raise TaskError(f"Model input tensor size ({size}) should be a multiplier of the "
                            f"number of channels ({channels}).")
        self.audio_format = AudioFormat(channels=channels, sample_rate=rate)
        self.buffer_size = size

    def preprocess(self, audio: TensorAudio) -> np.ndarray:
        """The input tensor's values for ``audio`` (checked against the model's format)."""
        if audio.format.channels != self.audio_format.channels:
            raise ValueError(f"Input audio buffer channel number {audio.format.channels} does not "
                             f"match the model required audio channel number "
                             f"{self.audio_format.channels}.")
        if audio.format.sample_rate != self.audio_format.sample_rate:
            raise ValueError(f"Input audio sample rate {audio.format.sample_rate} does not match "
                             f"the model required audio sample rate "
                             f"{self.audio_format.sample_rate}.")
        if audio.buffer_size != self.buffer_size:
            raise ValueError(f"Input audio buffer size {audio.buffer_size} does not match the model "
                             f"required input size {self.buffer_size}.")
        samples = np.asarray(audio.buffer, np.float32).reshape(-1)[:self.buffer_size]
        return samples.reshape(self.model.inputs[self.input_index]["shape"])


class AudioInputMixin:
    """What the audio tasks tell about their input, from the ``_preprocessor`` they build."""

    _preprocessor: AudioPreprocessor

    def create_input_tensor_audio(self) -> TensorAudio:
        """An empty :class:`TensorAudio` of the format and size the model wants."""
        return TensorAudio(audio_format=self.required_audio_format,
                           buffer_size=self.required_input_buffer_size)

    @property
    def required_input_buffer_size(self) -> int:
        return self._preprocessor.buffer_size

    @property
    def required_audio_format(self) -> AudioFormat:
        return self._preprocessor.audio_format

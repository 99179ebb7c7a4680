"""Offline speech recognition for Linkage Gateway calls, on Vosk.

Batch transcripts with word times (:class:`Transcriber`), per-leg merge (:func:`merge_legs`),
JSON/WebVTT writers, streaming recognition with partials and end-of-speech detection
(:class:`StreamingRecognizer`, :class:`RecognizerPool`) and phrase-list recognition
(:class:`PhraseRecognizer`). Independent of the ``gateway`` package.
"""

from speech.audio import AudioInfo, probe, read_pcm
from speech.errors import AudioError, AudioFormatError, ModelError, SpeechError
from speech.merge import merge_legs
from speech.model import Model, load_model, resolve_model_path
from speech.phrases import PhraseMatch, PhraseRecognizer, match_phrase
from speech.streaming import Event, RecognizerPool, StreamingRecognizer, read_frames
from speech.transcriber import Transcriber
from speech.transcript import Segment, Transcript, Word
from speech.writers import to_json, to_webvtt, write_transcript

__all__ = [
    "AudioError",
    "AudioFormatError",
    "AudioInfo",
    "Event",
    "Model",
    "ModelError",
    "PhraseMatch",
    "PhraseRecognizer",
    "RecognizerPool",
    "Segment",
    "SpeechError",
    "StreamingRecognizer",
    "Transcriber",
    "Transcript",
    "Word",
    "load_model",
    "match_phrase",
    "merge_legs",
    "probe",
    "read_frames",
    "read_pcm",
    "resolve_model_path",
    "to_json",
    "to_webvtt",
    "write_transcript",
]

"""Errors raised by the speech package; each message says what is wrong and what to do."""

from __future__ import annotations


class SpeechError(Exception):
    """Base class for every speech error."""


class ModelError(SpeechError):
    """The Vosk model path is missing, is not a model, or the model cannot be loaded."""


class AudioError(SpeechError):
    """An audio file is missing, unreadable, empty or not usable audio."""


class AudioFormatError(AudioError):
    """Audio in a sample format, rate or channel count the recogniser cannot take as is."""

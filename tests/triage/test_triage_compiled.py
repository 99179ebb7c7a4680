"""The Cython-compiled triage modules (setup.py) are the ones imported, and answer as the source does."""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import load_config
from gateway.triage import COMPILED_MODULES, Classifier, compiled_modules

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "gateway" / "triage"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
NOT_BUILT = ("the triage modules are not compiled here (no Cython or C compiler when installing; "
             "build them with `pip install -e .` or `python setup.py build_ext --inplace`)")


def _built() -> dict[str, Path]:
    """Compiled module files next to the sources, by module name."""
    found = {}
    for name in COMPILED_MODULES:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            if (PACKAGE / f"{name}{suffix}").is_file():
                found[name] = PACKAGE / f"{name}{suffix}"
    return found


def test_compiled_modules_are_the_ones_imported():
    built = _built()
    if not built:
        pytest.skip(NOT_BUILT)
    assert set(built) == set(COMPILED_MODULES), f"only {sorted(built)} are compiled"
    for name, path in built.items():
        module = importlib.import_module(f"gateway.triage.{name}")
        assert Path(module.__file__).resolve() == path.resolve()
        assert isinstance(module.__loader__, importlib.machinery.ExtensionFileLoader), name
        # a compiled module older than its source runs stale code: rebuild after editing the .py
        assert path.stat().st_mtime >= (PACKAGE / f"{name}.py").stat().st_mtime, (
            f"{path.name} is older than {name}.py: run `python setup.py build_ext --inplace`")
    assert all(compiled_modules().values())


# Run in a subprocess: the sources of the compiled modules, imported in place of the extensions.
PURE = """
import importlib.util, json, sys
from pathlib import Path
root = Path(sys.argv[1])
names = {f"gateway.triage.{n}": root / "gateway" / "triage" / f"{n}.py" for n in json.loads(sys.argv[2])}

class Source:
    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_file_location(name, names[name]) if name in names else None

sys.meta_path.insert(0, Source())
from gateway.config import load_config
from gateway.triage import Classifier, compiled_modules
assert not any(compiled_modules().values()), compiled_modules()
clf = Classifier.from_config(load_config(root / "config" / "gateway.yaml"))
for line in sys.stdin:
    print(json.dumps(clf.classify(json.loads(line)).to_dict(), ensure_ascii=False))
"""


# traditional characters, characters past U+9FFF (pinyin keys from the dict), short and empty texts
TRICKY = ["瞭解情況", "路燈打坏了", "著火了", "樓道燈壞了三天", "ＡＢＣ１２３", "😀𠀀𪚥着火", "", "火",
          "\x1c\x1d\x1e\x1fa\u2028b\u00a0c", "隔壁 有人 打架 ， 好像 有 刀 ， 快来 人 啊 ！"]


def _texts() -> list[str]:
    """The dev texts and every training corpus line, in both forms of the classifier."""
    texts = list(TRICKY)
    paths = [DEV, *sorted((ROOT / "config" / "triage_corpus").glob("*.jsonl")),
             *sorted((ROOT / "tests" / "triage" / "corpus").glob("*.jsonl"))]
    for path in paths:
        if path.is_file():
            lines = path.read_text(encoding="utf-8").splitlines()
            texts += [json.loads(line)["text"] for line in lines if line]
    return texts


def test_pure_python_gives_what_compiled_gives():
    if not _built():
        pytest.skip(NOT_BUILT)
    texts = _texts()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run(
        [sys.executable, "-c", PURE, str(ROOT), json.dumps(COMPILED_MODULES)],
        input="".join(json.dumps(t) + "\n" for t in texts), capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=300, check=True,
    )
    pure = run.stdout.splitlines()
    clf = Classifier.from_config(load_config(ROOT / "config" / "gateway.yaml"))
    assert len(pure) == len(texts)
    for text, answer in zip(texts, pure, strict=True):
        assert json.dumps(clf.classify(text).to_dict(), ensure_ascii=False) == answer, text


def test_config_check_warns_when_a_compiled_module_is_older_than_its_source(tmp_path, monkeypatch):
    import os

    import gateway.triage as triage
    import gateway.triage.scope as scope

    built, source = tmp_path / "scope.cpython-311-x86_64-linux-gnu.so", tmp_path / "scope.py"
    built.write_bytes(b"")
    source.write_text("")
    os.utime(built, (1_000, 1_000))
    monkeypatch.setattr(scope, "__file__", str(built))
    monkeypatch.setattr(triage, "compiled_modules", lambda: {"scope": True})
    [warning] = triage.warn_stale()
    assert warning.startswith("gateway/triage/scope.py: newer than its compiled module")
    os.utime(built, None)
    os.utime(source, (1_000, 1_000))
    assert triage.warn_stale() == []

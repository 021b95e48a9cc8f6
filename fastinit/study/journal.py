"""Nothing lost: a study's output folder checked before the first run, and each finished run
appended to it as one JSON line (runs.jsonl) the moment its task (an ensemble) finishes, so
that a study killed halfway (or whose machine died) resumes where it stopped: compare(...,
resume=folder) and
`fastinit compare --resume FOLDER` skip the runs already there. Runs are fully seeded, so the
resumed result equals an uninterrupted one."""
from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from fastinit.study.plan import RunConfig
from fastinit.study.results import _json_default

__all__ = ["JOURNAL", "Journal", "check_folder"]

JOURNAL = "runs.jsonl"


def check_folder(path: Any, name: str = "out") -> str:
    """path as a folder results can be written to (created if missing), checked by writing a
    probe file: an unwritable folder, or one that is an existing file, fails here, before the
    first run trains, instead of after the last."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise TypeError(f"{name} must be a folder path, got {path!r}")
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{name} {path!r} is an existing file, not a folder")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".fastinit-write-check-{os.getpid()}")
        with open(probe, "w") as f:
            f.write("ok")
        os.remove(probe)
    except OSError as e:
        raise OSError(f"{name} {path!r} cannot be written to: {e.strerror or e}") from None
    return path


def _key(cfg: RunConfig) -> str:
    """A config as one canonical JSON string (tuples and lists alike)."""
    return json.dumps(json.loads(json.dumps(dataclasses.asdict(cfg))), sort_keys=True)


class Journal:
    """The finished runs of a study in `folder`/runs.jsonl: one {"config", "run"} object a line.

    resume=False starts the file afresh; resume=True reads the runs already there (a last line
    cut short by a kill is ignored) and appends to them."""

    def __init__(self, folder: Any, *, resume: bool) -> None:
        self.folder = check_folder(folder, "resume" if resume else "out")
        self.path = os.path.join(self.folder, JOURNAL)
        self._done: dict[str, dict] = {}
        if resume:
            if not os.path.exists(self.path):
                raise ValueError(f"resume: {self.path!r} does not exist (no study wrote to {self.folder!r})")
            self._done = self._read()
        self._file = open(self.path, "a" if resume else "w", encoding="utf-8")

    def _read(self) -> dict[str, dict]:
        done = {}
        with open(self.path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        for i, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                done[json.dumps(entry["config"], sort_keys=True)] = entry["run"]
            except (ValueError, KeyError, TypeError):
                if i >= len(lines) - 2:  # the line being written when the study was killed
                    continue
                raise ValueError(f"resume: {self.path!r} line {i + 1} is not a run record") from None
        return done

    def done(self, cfg: RunConfig) -> dict | None:
        """The record of cfg's run if it finished before, else None."""
        return self._done.get(_key(cfg))

    def add(self, runs: list[tuple[RunConfig, dict]]) -> None:
        """Append finished runs (an ensemble's members), flushed to the disk before the next
        ones are counted."""
        for cfg, record in runs:
            line = json.dumps({"config": json.loads(_key(cfg)), "run": record}, default=_json_default)
            self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


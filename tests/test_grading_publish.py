"""The gradebook that a grading run writes: the database nbgrader itself would create, without its subprocess."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from autograder.config import put_venv_on_path
from autograder.grading import publish


def _schema(url: str) -> tuple[dict[str, list[str]], list[str]]:
    engine = create_engine(url)
    try:
        db = inspect(engine)
        tables = {t: sorted(c["name"] for c in db.get_columns(t)) for t in db.get_table_names()}
        with engine.connect() as conn:
            stamp = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()
    return tables, stamp


def test_created_gradebook_equals_nbgrader_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader import api

    put_venv_on_path()  # nbgrader runs the venv's `alembic`
    theirs, ours = f"sqlite:///{tmp_path / 'theirs.db'}", f"sqlite:///{tmp_path / 'ours.db'}"
    with api.Gradebook(theirs):
        pass
    publish.create_gradebook(ours)

    def no_subprocess() -> str:
        raise AssertionError("nbgrader asked alembic for the revision: the database was not stamped")

    monkeypatch.setattr(api, "get_alembic_version", no_subprocess)
    with api.Gradebook(ours, course_id="nnlab") as gb:  # opens it as an existing gradebook
        gb.update_or_create_student("s1")
        assert [s.id for s in gb.students] == ["s1"]
    assert _schema(ours) == _schema(theirs)
    assert _schema(ours)[1] == [publish.alembic_head()]


def test_an_existing_gradebook_is_left_as_it_is(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gb.db'}"
    publish.create_gradebook(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    engine.dispose()
    publish.create_gradebook(url)
    assert _schema(url)[1] == ["older"]

"""``python -m scripts.reliability`` argument errors, through click's runner (the runs themselves are long: see
the README's reliability table)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from scripts.reliability import main


@pytest.mark.parametrize("url", ["sqlite:///reliability.sqlite", "mysql://root@127.0.0.1/test"])
def test_dbrestart_wants_a_postgresql_database(url):
    r = CliRunner().invoke(main, ["dbrestart", "--database", url])
    assert r.exit_code == 2, r.output
    assert "Invalid value for '--database': must be a PostgreSQL URL" in r.output


def test_dbrestart_without_a_database_is_a_usage_error():
    r = CliRunner().invoke(main, ["dbrestart"])
    assert r.exit_code == 2, r.output
    assert "Missing option '--database'" in r.output

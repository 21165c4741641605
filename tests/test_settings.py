"""Settings from the environment: a wrong POLLER_* variable is one line that names it and says
what is allowed, and never repeats its value (it may be a key or a password)."""

from __future__ import annotations

import pytest

from poller.errors import SettingsError
from poller.settings import check_database_url, get_settings


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///data/poller.db",
        "sqlite:////var/lib/poller/poller.db",
        "postgresql://poller:pw@db:5432/poller",
        "postgres://poller@db/poller",
        "postgresql+psycopg://poller@db/poller",
    ],
)
def test_sqlite_and_postgresql_urls_are_allowed(url: str) -> None:
    check_database_url(url)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("garbage", "not a database URL"),
        ("", "not a database URL"),
        ("mysql://root:s3cretpw@db/test", "'mysql' is not a database the poller runs on"),
        ("oracle+cx_oracle://u:s3cretpw@db/x", "'oracle+cx_oracle' is not a database"),
        ("postgresql+asyncpg://u:s3cretpw@db/x", "'postgresql+asyncpg' is not a database"),
    ],
)
def test_other_urls_are_refused_without_repeating_them(url: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_database_url(url)
    assert says in str(refused.value) and "s3cretpw" not in str(refused.value)
    assert "give sqlite:///PATH or postgresql://" in str(refused.value)


@pytest.fixture
def fresh_settings():
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("POLLER_DATABASE_URL", "mysql://root:s3cretpw@db/test", "POLLER_DATABASE_URL: 'mysql'"),
        ("POLLER_PAGE_SIZE", "s3cretpw", "POLLER_PAGE_SIZE: Input should be a valid integer"),
        ("POLLER_SEND_CONCURRENCY", "0", "POLLER_SEND_CONCURRENCY: Input should be greater"),
    ],
)
def test_a_wrong_variable_is_one_line_naming_it(
    fresh_settings, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as wrong:
        get_settings()
    message = str(wrong.value)
    assert message.startswith(says) and "\n" not in message, message
    assert "s3cretpw" not in message
    assert message.endswith("Fix the variable, or unset it for its default (README, Configuration)")


def test_several_wrong_variables_say_how_many_more(
    fresh_settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLLER_PAGE_SIZE", "0")
    monkeypatch.setenv("POLLER_SEND_CONCURRENCY", "0")
    with pytest.raises(SettingsError, match=r"\(and 1 more\)"):
        get_settings()

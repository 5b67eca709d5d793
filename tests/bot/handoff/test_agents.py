"""Agents: scrypt hashes, logins, sessions, and the command line."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import agents as cli
from bot.store.agents import (
    AgentError,
    add_agent,
    disable_agent,
    end_session,
    hash_password,
    log_in,
    session_of,
    verify_password,
)  # fmt: skip
from bot.store.models import Agent, AgentSession


def test_a_hash_is_salted_scrypt_and_verifies_only_the_password() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first.startswith("scrypt$") and first != second
    assert verify_password("correct horse", first) and not verify_password("correct hors", first)
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")


def test_login_gives_a_session_that_ends(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_agent(session, "김상담", "a-long-password")
        assert log_in(session, "김상담", "wrong-password") is None
        assert log_in(session, "nobody", "a-long-password") is None
        token, login = log_in(session, "김상담", "a-long-password") or ("", None)
    assert login is not None and login.name == "김상담"
    with sessions.begin() as session:
        stored = session.scalars(select(AgentSession)).one()
        assert stored.token_hash != token  # only the hash is kept
        assert session_of(session, token) == login
        end_session(session, login.session_id)
        assert session_of(session, token) is None


def test_an_expired_session_or_a_disabled_agent_is_refused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_agent(session, "a", "a-long-password")
        token, _ = log_in(session, "a", "a-long-password") or ("", None)
        session.execute(
            update(AgentSession).values(expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
        )
        assert session_of(session, token) is None
        token, _ = log_in(session, "a", "a-long-password") or ("", None)
        assert disable_agent(session, "a")
        assert session_of(session, token) is None and log_in(session, "a", "a-long-password") is None


def test_names_and_passwords_are_checked(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        add_agent(session, "a", "a-long-password")
        with pytest.raises(AgentError, match="exists"):
            add_agent(session, "a", "another-long-one")
        with pytest.raises(AgentError, match="at least"):
            add_agent(session, "b", "short")


def test_the_command_line_adds_lists_and_disables(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    sessions: sessionmaker[Session],
) -> None:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert cli.main(["add", "이상담", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("boss-long-password\n"))
    assert cli.main(["add", "최팀장", "--role", "supervisor", "--password-stdin"]) == 0
    assert cli.main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "이상담\tagent\tactive" in listed and "최팀장\tsupervisor\tactive" in listed
    assert cli.main(["disable", "이상담"]) == 0 and cli.main(["disable", "nobody"]) == 1
    with sessions() as session:
        assert session.scalars(select(Agent.active).where(Agent.name == "이상담")).one() is False

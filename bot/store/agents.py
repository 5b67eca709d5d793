"""Agent repository: agents, console logins (scrypt hashes, sessions as token hashes, CSRF), access log."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.store.models import AccessLog, Agent, AgentSession, utcnow

__all__ = [
    "OVERSEEING", "ROLES", "AgentError", "LoggedIn", "add_agent", "disable_agent", "end_session",
    "hash_password", "list_agents",
    "log_in", "open_session", "password_hash_of", "record_access", "session_of", "verify_password",
]  # fmt: skip

# scrypt (RFC 7914) with OWASP's parameters for it: N=2^17, r=8, p=1 (128 MiB of memory per hash).
_N, _R, _P = 2**17, 8, 1
_MAX_MEM = 256 * 1024 * 1024
SESSION_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD = 10


class AgentError(ValueError):
    """A name or password that cannot be used."""


# agent: takes chats; staff: works one department's tickets; supervisor: also opens any chat's personal
# data and works every ticket; admin: the same (and runs the system).
ROLES = ("agent", "staff", "supervisor", "admin")
OVERSEEING = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class LoggedIn:
    """An agent with a valid console session."""

    agent_id: int
    name: str
    csrf: str
    session_id: int
    role: str = "agent"
    department: str | None = None  # staff: the department whose tickets they work

    @property
    def oversees(self) -> bool:
        """Whether the agent may open the personal data of any chat, not only the one they hold."""
        return self.role in OVERSEEING


def hash_password(password: str) -> str:
    """Return an scrypt hash of PASSWORD with a fresh salt: scrypt$N$r$p$salt$hash (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAX_MEM, dklen=32)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Return whether PASSWORD matches the STORED hash (in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        given = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAX_MEM,
            dklen=32,
        )
    except ValueError:
        return False
    return hmac.compare_digest(given.hex(), digest)


@functools.cache
def _dummy() -> str:
    # Checked against when the name is unknown, so that a wrong name takes as long as a wrong password.
    return hash_password(secrets.token_urlsafe(16))


def add_agent(
    session: Session, name: str, password: str, role: str = "agent", department: str | None = None
) -> int:
    """Create agent NAME with PASSWORD and ROLE (one of ROLES; staff with their DEPARTMENT); return its id."""
    if role not in ROLES:
        raise AgentError(f"the role must be one of {', '.join(ROLES)}")
    if (role == "staff") != bool(department):
        raise AgentError("staff need a department (--department), and only staff have one")
    name = name.strip()
    if not name or len(name) > 64:
        raise AgentError("a name of 1 to 64 characters is needed")
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"the password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(Agent.id).where(Agent.name == name)) is not None:
        raise AgentError(f"agent {name!r} exists")
    agent = Agent(
        name=name, password_hash=hash_password(password), active=True, role=role, department=department,
        created_at=utcnow(),
    )  # fmt: skip
    session.add(agent)
    session.flush()
    return int(agent.id)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(session: Session, name: str, password: str) -> tuple[str, LoggedIn] | None:
    """Check NAME and PASSWORD; return a new session's cookie token and the login, or None."""
    if not verify_password(password, password_hash_of(session, name)):
        return None
    return open_session(session, name)


def password_hash_of(session: Session, name: str) -> str:
    """Return the password hash of active agent NAME; a hash no password matches if there is none."""
    agent = session.scalars(select(Agent).where(Agent.name == name, Agent.active.is_(True))).first()
    return agent.password_hash if agent else _dummy()


def open_session(session: Session, name: str) -> tuple[str, LoggedIn] | None:
    """Start a session for active agent NAME (whose password was checked); return its token and login."""
    agent = session.scalars(select(Agent).where(Agent.name == name, Agent.active.is_(True))).first()
    if agent is None:
        return None
    token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(32), utcnow()
    row = AgentSession(
        token_hash=_token_hash(token), csrf=csrf, agent_id=agent.id, created_at=now,
        expires_at=now + SESSION_LIFETIME,
    )  # fmt: skip
    session.add(row)
    session.execute(delete(AgentSession).where(AgentSession.expires_at < now))
    session.flush()
    return token, LoggedIn(agent.id, agent.name, csrf, row.id, agent.role, agent.department)


def session_of(session: Session, token: str) -> LoggedIn | None:
    """Return the login that cookie TOKEN belongs to, if it is valid and its agent active."""
    if not token:
        return None
    row = session.execute(
        select(AgentSession, Agent)
        .join(Agent, Agent.id == AgentSession.agent_id)
        .where(AgentSession.token_hash == _token_hash(token), Agent.active.is_(True))
    ).first()
    if row is None:
        return None
    login, agent = row
    expires = (
        login.expires_at if login.expires_at.tzinfo else login.expires_at.replace(tzinfo=dt.timezone.utc)
    )
    if expires < utcnow():
        return None
    return LoggedIn(agent.id, agent.name, login.csrf, login.id, agent.role, agent.department)


def end_session(session: Session, session_id: int) -> None:
    """Log out: forget session SESSION_ID."""
    session.execute(delete(AgentSession).where(AgentSession.id == session_id))


def disable_agent(session: Session, name: str) -> bool:
    """Switch agent NAME off and end their sessions; return whether they existed."""
    agent = session.scalars(select(Agent).where(Agent.name == name)).first()
    if agent is None:
        return False
    agent.active = False
    session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
    return True


def list_agents(session: Session) -> list[tuple[str, bool, str]]:
    """Return every agent's name, whether they are active, and their role."""
    return [(a.name, a.active, a.role) for a in session.scalars(select(Agent).order_by(Agent.name))]


def record_access(session: Session, *, agent_id: int, handoff_id: int, reason: str) -> None:
    """Log that an agent opened the personal data of a chat, and why."""
    session.add(AccessLog(agent_id=agent_id, handoff_id=handoff_id, reason=reason, created_at=utcnow()))

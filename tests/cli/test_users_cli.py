"""`hemicycle user create|list|set-password` against a real temporary database."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from server.cli.commands import cli
from server.models import AuditEntry, Base, Role, User


@pytest.fixture
def database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HEMICYCLE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HEMICYCLE_DATABASE_URL", url)
    monkeypatch.setenv("HEMICYCLE_ASYNC_MODE", "threading")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def run(*args, input=None):
    return CliRunner().invoke(cli, ["user", *args], input=input, catch_exceptions=False)


def users(engine) -> dict[str, User]:
    with Session(engine) as session:
        return {u.username: u for u in session.scalars(select(User))}


def login_works(engine, username: str, password: str) -> bool:
    from argon2 import PasswordHasher
    from argon2.exceptions import VerificationError

    try:
        return PasswordHasher().verify(users(engine)[username].password_hash, password)
    except VerificationError:
        return False


def test_create_with_password_option(database):
    result = run("create", "Admin", "--role", "admin", "--name", "Phạm Quản Trị",
                 "--password", "mật khẩu quản trị")
    assert result.exit_code == 0, result.output
    user = users(database)["admin"]
    assert (user.role, user.full_name) == (Role.ADMIN, "Phạm Quản Trị")
    assert user.password_hash.startswith("$argon2id$")
    assert login_works(database, "admin", "mật khẩu quản trị")
    with Session(database) as session:
        entry = session.scalars(select(AuditEntry)).one()
    assert (entry.action, entry.actor) == ("user.create", "system")


def test_create_prompts_for_the_password_twice(database):
    result = run("create", "thuky", "--role", "secretary", "--name", "Lê Thư Ký",
                 input="secret passphrase\nsecret passphrase\n")
    assert result.exit_code == 0, result.output
    assert "secret passphrase" not in result.output
    assert login_works(database, "thuky", "secret passphrase")


def test_create_without_password(database):
    assert run("create", "daibieu", "--name", "Đại Biểu", "--no-password").exit_code == 0
    user = users(database)["daibieu"]
    assert (user.role, user.password_hash) == (Role.DELEGATE, None)


@pytest.mark.parametrize("args, message", [
    (["bad name", "--name", "X", "--password", "long enough"], "username"),
    (["ok", "--name", "X", "--password", "short"], "password"),
    (["ok", "--name", "", "--password", "long enough"], "full_name"),
    (["ok", "--name", "X", "--role", "king", "--password", "long enough"], "king"),
    (["ok", "--password", "long enough"], "--name"),
])
def test_create_rejects_bad_input(database, args, message):
    result = run("create", *args)
    assert result.exit_code != 0
    assert message in result.output
    assert users(database) == {}


def test_create_refuses_a_taken_username(database):
    run("create", "an", "--name", "An", "--password", "long enough")
    result = run("create", "AN", "--name", "An 2", "--password", "long enough")
    assert result.exit_code == 1 and "Tên đăng nhập an đã được sử dụng." in result.output
    assert len(users(database)) == 1


def test_list(database):
    run("create", "an", "--name", "Nguyễn An", "--role", "chair", "--password", "long enough")
    run("create", "binh", "--name", "Trần Bình", "--no-password")
    lines = run("list").output.strip().splitlines()
    assert [line.split("\t")[1:4] for line in lines] == [
        ["an", "chair", "active"], ["binh", "delegate", "active"]]
    assert "Nguyễn An" in lines[0]


def test_set_password_changes_it_and_ends_sessions(database):
    run("create", "an", "--name", "An", "--password", "old password")
    epoch = users(database)["an"].session_epoch
    result = run("set-password", "an", input="new password!\nnew password!\n")
    assert result.exit_code == 0, result.output
    assert login_works(database, "an", "new password!")
    assert not login_works(database, "an", "old password")
    assert users(database)["an"].session_epoch == epoch + 1


@pytest.mark.parametrize("args, message", [
    (["nobody", "--password", "long enough"], "No user named"),
    (["an", "--password", "short"], "password"),
])
def test_set_password_errors(database, args, message):
    run("create", "an", "--name", "An", "--password", "old password")
    result = run("set-password", *args)
    assert result.exit_code == 1 and message in result.output
    assert login_works(database, "an", "old password")

"""``hemicycle user create|list|set-password``: accounts from the command line.

Commands act as the system (the operator at the console), so the first
administrator can be created before anyone can log in.
"""
from __future__ import annotations

import click
from pydantic import ValidationError
from server.cli.commands import with_app

from server.models import Role

ROLES = [role.value for role in Role]


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _validation_message(exc: ValidationError) -> str:
    from server.errors import fields_from_validation

    return "; ".join(f"{field}: {text}" for field, text in fields_from_validation(exc).items())


@click.group("user")
def user_group() -> None:
    """Accounts and passwords."""


@user_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default=Role.DELEGATE.value, show_default=True)
@click.option("--name", "full_name", required=True, help='Full name, e.g. "Nguyễn Văn An".')
@click.option("--email", default=None)
@click.option("--password", default=None,
              help="Asked for (hidden) when not given; --no-password for tablet-only delegates.")
@click.option("--no-password", is_flag=True, help="Create the account without a password.")
@with_app
def create_command(username, role, full_name, email, password, no_password) -> None:
    """Create an account."""
    from server.errors import HemicycleError
    from server.extensions import db
    from server.services.accounts import accounts
    from server.services.actors import Actor

    if password is None and not no_password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = accounts.NewUser(username=username, full_name=full_name, role=role,
                                email=email, password=password)
        user = accounts.create_user(Actor.system(), data)
        db.session.commit()
    except ValidationError as exc:
        _fail(_validation_message(exc))
    except HemicycleError as exc:
        _fail(exc.message)
    click.echo(f"Created {user.username} ({user.role.value}), id {user.id}.")


@user_group.command("list")
@with_app
def list_command() -> None:
    """List every account."""
    from server.services.accounts import accounts
    from server.services.actors import Actor

    for user in accounts.list_users(Actor.system()):
        state = "active" if user.active else "disabled"
        click.echo(f"{user.id}\t{user.username}\t{user.role.value}\t{state}\t{user.full_name}")


@user_group.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="Asked for (hidden) when not given.")
@with_app
def set_password_command(username, password) -> None:
    """Set a new password; every session of that user ends."""
    from sqlalchemy import select

    from server.errors import HemicycleError
    from server.extensions import db
    from server.models import User
    from server.services.accounts import accounts
    from server.services.actors import Actor

    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        _fail(f"No user named {username!r}.")
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        accounts.update_user(Actor.system(), user.id, accounts.UserChanges(password=password))
        db.session.commit()
    except ValidationError as exc:
        _fail(_validation_message(exc))
    except HemicycleError as exc:
        _fail(exc.message)
    click.echo(f"Password of {user.username} changed; their sessions have ended.")


COMMANDS = [user_group]

"""``hemicycle ca``: the deployment's own certificate authority for signing the minutes."""
from __future__ import annotations

import sys

import click
from server.cli.commands import with_app


@click.group("ca")
def ca_group() -> None:
    """Local certificate authority and users' signing certificates."""


def _fail(error) -> None:
    click.echo(f"Error: {error.message}", err=True)
    sys.exit(1)


@ca_group.command("init")
@click.option("--name", "common_name", default="Hemicycle CA", show_default=True,
              help="Common name of the CA certificate.")
@click.option("--organization", default="", help="The body that runs this deployment.")
@click.option("--passphrase", envvar="HEMICYCLE_CA_PASSPHRASE", default=None,
              help="Encrypt the CA key with this passphrase (else it is kept 0600 in clear).")
@click.option("--force", is_flag=True, help="Replace an existing CA.")
@with_app
def init_command(common_name: str, organization: str, passphrase: str | None, force: bool) -> None:
    """Create the CA key and certificate in DATA_DIR/ca/."""
    from cryptography.hazmat.primitives import hashes

    from server.errors import HemicycleError
    from server.extensions import db
    from server.services.minutes import ca

    try:
        cert = ca.init_ca(common_name, organization, passphrase=passphrase, force=force)
    except HemicycleError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"CA created in {ca.ca_dir()}")
    click.echo(f"Subject: {cert.subject.rfc4514_string()}")
    click.echo(f"SHA-256: {cert.fingerprint(hashes.SHA256()).hex()}")


@ca_group.command("issue-seal")
@click.option("--name", required=True, help="The body the seal is in the name of (its full name).")
@click.option("--ca-passphrase", envvar="HEMICYCLE_CA_PASSPHRASE", default=None,
              help="Passphrase of the CA key, if it is encrypted.")
@click.option("--days", default=730, show_default=True, type=click.IntRange(1, 3650))
@click.option("--force", is_flag=True, help="Replace the existing seal.")
@with_app
def issue_seal_command(name: str, ca_passphrase: str | None, days: int, force: bool) -> None:
    """Issue the office seal that signs the reports of written consultations."""
    from cryptography.hazmat.primitives import hashes

    from server.errors import HemicycleError
    from server.extensions import db
    from server.services.minutes import ca

    try:
        cert = ca.issue_office_seal(name, ca_passphrase=ca_passphrase, days=days, force=force)
    except HemicycleError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Office seal in {ca.seal_path()}")
    click.echo(f"Subject: {cert.subject.rfc4514_string()}")
    click.echo(f"SHA-256: {cert.fingerprint(hashes.SHA256()).hex()}")
    click.echo(f"Valid until: {cert.not_valid_after_utc:%Y-%m-%d}")


@ca_group.command("issue")
@click.argument("username")
@click.option("--passphrase", envvar="HEMICYCLE_KEY_PASSPHRASE", prompt=True,
              hide_input=True, confirmation_prompt=True,
              help="Passphrase protecting the user's key; asked for at every signature.")
@click.option("--ca-passphrase", envvar="HEMICYCLE_CA_PASSPHRASE", default=None,
              help="Passphrase of the CA key, if it is encrypted.")
@click.option("--days", default=730, show_default=True, type=click.IntRange(1, 3650))
@with_app
def issue_command(username: str, passphrase: str, ca_passphrase: str | None, days: int) -> None:
    """Issue a signing certificate to USERNAME from the local CA."""
    from sqlalchemy import select

    from server.errors import HemicycleError
    from server.extensions import db
    from server.models import User
    from server.services.minutes import ca

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"Error: no user {username!r}.", err=True)
        sys.exit(1)
    try:
        row = ca.issue_certificate(user, passphrase, ca_passphrase=ca_passphrase, days=days)
    except HemicycleError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Issued certificate {row.id} to {user.full_name}: {row.subject}")
    click.echo(f"SHA-256: {row.fingerprint_sha256}, valid until {row.not_after:%Y-%m-%d}")


@ca_group.command("import")
@click.argument("username")
@click.argument("pkcs12_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--passphrase", envvar="HEMICYCLE_KEY_PASSPHRASE", prompt=True, hide_input=True)
@with_app
def import_command(username: str, pkcs12_file: str, passphrase: str) -> None:
    """Register a PKCS#12 (.p12/.pfx) signing certificate for USERNAME."""
    from pathlib import Path

    from sqlalchemy import select

    from server.errors import HemicycleError
    from server.extensions import db
    from server.models import User
    from server.services.minutes import ca

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"Error: no user {username!r}.", err=True)
        sys.exit(1)
    try:
        row = ca.import_pkcs12(user, Path(pkcs12_file).read_bytes(), passphrase)
    except HemicycleError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Imported certificate {row.id} for {user.full_name}: {row.subject}")


@ca_group.command("revoke")
@click.argument("certificate_id", type=int)
@click.option("--reason", default="", help="Why, for the audit log.")
@with_app
def revoke_command(certificate_id: int, reason: str) -> None:
    """Stop a signing certificate from signing; minutes it signed before stay valid."""
    from server.errors import HemicycleError
    from server.extensions import db
    from server.models import UserCertificate
    from server.services.actors import Actor
    from server.services.minutes import ca

    row = db.session.get(UserCertificate, certificate_id)
    if row is None:
        click.echo(f"Error: no certificate {certificate_id}.", err=True)
        sys.exit(1)
    try:
        ca.revoke_certificate(row, Actor.system(), reason)
    except HemicycleError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Revoked certificate {row.id}: {row.subject}")


COMMANDS = [ca_group]


@ca_group.command("register-token")
@click.argument("username")
@click.option("--certificate", "pem_file", type=click.Path(exists=True, dir_okay=False),
              default=None, help="PEM of a certificate on USERNAME's own token (signed with "
                                 "hemicycle-sign). Without it: the certificate on the server's "
                                 "token (HEMICYCLE_PKCS11_*), which then signs for USERNAME.")
@with_app
def register_token_command(username: str, pem_file: str | None) -> None:
    """Register a signing certificate whose key stays on a PKCS#11 token, for USERNAME."""
    from pathlib import Path

    from flask import current_app
    from sqlalchemy import select

    from server.errors import HemicycleError
    from server.extensions import db
    from server.models import User
    from server.services.minutes import ca, trust
    from server.services.signers import backends

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        click.echo(f"Error: no user {username!r}.", err=True)
        sys.exit(1)
    try:
        if pem_file:
            cert, *chain = trust.pem_certificates(Path(pem_file).read_bytes()) or [None]
            if cert is None:
                click.echo("Error: no PEM certificate in that file.", err=True)
                sys.exit(1)
            row = ca.register_token_certificate(user, cert, chain)
        else:
            settings = backends.TokenSettings.from_config(current_app.config)
            if settings is None:
                click.echo("Error: no server token configured (HEMICYCLE_PKCS11_MODULE).",
                           err=True)
                sys.exit(1)
            row = ca.register_token_certificate(user, backends.token_certificate(settings), [],
                                                on_server=True)
    except (HemicycleError, trust.TrustError) as error:
        _fail(error) if isinstance(error, HemicycleError) else _fail_text(str(error))
    db.session.commit()
    click.echo(f"Registered certificate {row.id} for {user.full_name}: {row.subject}")


def _fail_text(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@ca_group.command("register-csc")
@click.argument("username")
@click.argument("credential_id")
@with_app
def register_csc_command(username: str, credential_id: str) -> None:
    """Register USERNAME's credential CREDENTIAL_ID at the remote signing service
    (HEMICYCLE_CSC_URL): its certificate is fetched from the service and checked."""
    from flask import current_app
    from sqlalchemy import select

    from server.errors import HemicycleError
    from server.extensions import db
    from server.models import User
    from server.services.minutes import ca
    from server.services.signers import remote

    user = db.session.scalar(select(User).where(User.username == username))
    settings = remote.CSCSettings.from_config(current_app.config)
    if user is None or settings is None:
        _fail_text(f"no user {username!r}." if user is None
                   else "no remote signing service configured (HEMICYCLE_CSC_URL).")
    try:
        cert, chain = remote.credential_certificates(settings, credential_id)
        row = ca.register_token_certificate(user, cert, chain,
                                            keystore=remote.PREFIX + credential_id)
    except HemicycleError as error:
        _fail(error)
    db.session.commit()
    click.echo(f"Registered certificate {row.id} for {user.full_name}: {row.subject}")

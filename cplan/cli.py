"""Command-line interface: ``flask cplan ...`` (geography imports, demo data, audit checks)."""
import click
from flask.cli import AppGroup

cplan_cli = AppGroup("cplan", help="cplan administration commands.")
geo_cli = AppGroup("geo", help="Import official geography (LGD districts, villages, police stations).")
cplan_cli.add_command(geo_cli)


@cplan_cli.command("check-config")
def check_config():
    """Print the effective database and SMS backend (no secrets)."""
    from flask import current_app

    url = current_app.config["SQLALCHEMY_DATABASE_URI"]
    click.echo(f"environment: {current_app.config['ENV_NAME']}")
    click.echo(f"database: {url.split('@')[-1] if '@' in url else url}")
    click.echo(f"sms backend: {current_app.config['SMS_BACKEND']}")

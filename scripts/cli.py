"""``matchmaker``: the command line. Each command lives in the module named for what it does; this file only
groups them, importing a command's module when that command runs (``matchmaker --help`` stays instant).
User mistakes raise ``click.UsageError``/``click.ClickException`` (exit 2/1), never a traceback."""

from __future__ import annotations

import importlib
import os

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

#: command name -> "module:attribute"
COMMANDS = {
    "recommend": "scripts.recommend:recommend",
    "demo": "scripts.recommend:demo",
    "serve": "scripts.serve:serve",
    "keys": "scripts.serve:keys",
    "tables": "scripts.tables:tables",
    "rotations": "scripts.tables:rotations",
    "evaluate": "scripts.evaluate:evaluate",
    "generate": "scripts.synthetic:generate",
    "import": "scripts.importer:import_registrations",
    "cards": "scripts.cards:cards",
    "schedule": "scripts.schedule:schedule",
}

_HELP = {
    "recommend": "Show who one attendee should meet, best first, with reasons.",
    "demo": "Rank the bundled sample event and show a few attendees' lists.",
    "serve": "Run the HTTP API with gunicorn (--demo: sample event, demo key, curl example).",
    "keys": "Create, list and revoke API keys.",
    "tables": "Seat attendees at tables over several rounds (seating plans, roundtables).",
    "rotations": "1:1 speed-networking rotations.",
    "evaluate": "Score ranking strategies on an event with ground truth.",
    "generate": "Write a seeded synthetic event (and its ground truth).",
    "import": "Turn a registration export (CSV, XLSX) into an event file.",
    "cards": "Printable 'people you should meet' cards, one per attendee.",
    "schedule": "Schedule 1:1 meetings into slots and locations; agendas, calendars, grid, stats.",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, _HELP[name]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="matchmaker")
def main() -> None:
    """Matchmaker: reciprocal, explained 'people you should meet' lists for networking events."""


if __name__ == "__main__":  # pragma: no cover
    main()

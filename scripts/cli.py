"""``matchmaker``: the command line. Each command lives in the module named for what it does; this file only
groups them. User mistakes raise ``click.UsageError``/``click.ClickException`` (exit 2/1), never a traceback."""

from __future__ import annotations

import os

import click

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="matchmaker")
def main() -> None:
    """Matchmaker: reciprocal, explained 'people you should meet' lists for networking events."""


from scripts.recommend import demo, recommend  # noqa: E402

main.add_command(recommend)
main.add_command(demo)
# Further commands register here (one line each).
from scripts.evaluate import evaluate  # noqa: E402

main.add_command(evaluate)
from scripts.synthetic import generate  # noqa: E402

main.add_command(generate)
from scripts.serve import keys, serve  # noqa: E402

main.add_command(serve)
main.add_command(keys)
from scripts.tables import rotations, tables  # noqa: E402

main.add_command(tables)
main.add_command(rotations)

if __name__ == "__main__":  # pragma: no cover
    main()

"""``ftkit show PATH:LINE``: one record as the model sees it, token by token."""

from __future__ import annotations

import click

from ftkit.cli import cli, colour, common_options, emit, settings_context
from ftkit.errors import ParameterError
from ftkit.render.safe import model_json


def split_target(target: str, line: int | None = None) -> tuple[str, int]:
    """``PATH:LINE`` -> (PATH, LINE); the last colon separates them (``-:3`` is line 3 of
    standard input). With ``line`` given apart (``PATH LINE``), the path is taken as it is."""
    if line is not None:
        return target, line
    path, sep, number = target.rpartition(":")
    if not sep or not path or not number.strip().isdigit():
        raise ParameterError(f"expected PATH:LINE (e.g. data.jsonl:3, or -:3 for standard input), got {target!r}")
    return path, int(number)


# "-:3" must reach the command as its argument, not be read as an unknown option "-:".
@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("target", metavar="PATH:LINE")
@click.argument("line", required=False, type=click.IntRange(min=1))
@click.option("--model", help="Base model whose tokenizer and chat template to use [default: the profile's].")
@click.option("--tokenizer", help="Override: a tokenizer key, a tiktoken encoding name, or a tokenizer.json path.")
@click.option("--max-tokens", type=click.IntRange(min=1), help="Max Tokens to show the cut at [default: the profile's].")
@click.option("--no-default-system", is_flag=True, help="Do not add the template's default system prompt to a record without one.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@common_options
def show(target: str, line: int | None, model: str | None, tokenizer: str | None, max_tokens: int | None, no_default_system: bool, fmt: str,
         **options: object) -> None:  # fmt: skip
    """Show the record on LINE of PATH (- for standard input; also PATH LINE) as the model sees it: the templated
    text exactly as the tokenizer receives it, trainable spans marked, tokens per message, and
    where Max Tokens cuts. --format json lists every token's id, text and trainable flag.

    Exit 0 when shown, 1 when the line holds no chat record that can be templated, 2 for usage
    or I/O errors."""
    from ftkit.plan.show import show_record
    from ftkit.scan.inputs import open_inputs

    path, number = split_target(target, line)
    ctx = settings_context(options, model=model, max_tokens=max_tokens)
    with open_inputs(path, directories=False, single=True) as inputs:
        view = show_record(inputs.items[0], number, ctx.profile, ctx.selected, model=ctx.settings.model, tokenizer=tokenizer,
                           default_system=False if no_default_system else None, max_tokens=ctx.settings.max_tokens)  # fmt: skip
    if fmt == "json":
        emit(model_json(view))
        return
    from ftkit.render.show import render_show_text

    emit(render_show_text(view, colour=colour()))

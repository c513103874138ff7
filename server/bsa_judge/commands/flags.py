"""Command-line flags generated from the Settings model: one `--kebab-case` flag per simple
field, so a setting added to `Settings` is a flag of `bsa-judge serve` without more code.

Why not pydantic-settings' own CLI source (`CliSettingsSource(Settings, root_parser=...,
cli_kebab_case=True, cli_implicit_flags=True)`, tried with pydantic-settings 2.16): it does
hang the flags on our `serve` subparser with the same precedence, but it cannot give the
same flags and help without more code than this module. It exposes every field, so the
endpoint lists (`--judges list[JSON]`) become flags unless each is annotated `CliSuppress`
in Settings; it spells an unset optional `null` where our users and README write `none`
(`--metrics-port none`); and its help names neither the environment variable nor keeps
our `[BSA_JUDGE_<NAME>; default ...]` form. Values it reads are strings checked later by
pydantic, so a bad number is reported as a settings error rather than by argparse, which
is equivalent. Revisit if those three become options of the CLI source.
"""

from __future__ import annotations

import argparse
import types
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from bsa_judge.settings import ENV_PREFIX, Settings

_NONE = "none"


def add_flags(parser: argparse.ArgumentParser) -> None:
    """Add one `--kebab-case` flag per simple setting (str, int, float, bool, Path, Literal,
    optional thereof). Absent flags leave the setting to the environment, file or default."""
    group = parser.add_argument_group(
        "settings", f"each also read from {ENV_PREFIX}<NAME> and from the config file"
    )
    for name, field in Settings.model_fields.items():
        flag = _flag_for(field.annotation)
        if flag is None:
            continue  # lists and models come from the config file or env JSON
        default = field.get_default(call_default_factory=True)
        env = f"{ENV_PREFIX}{name.upper()}"
        help_text = f"{field.description or name} [{env}; default {default}]"
        group.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=argparse.SUPPRESS,
            help=help_text.replace("%", "%%"),
            **flag,
        )


def flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given as flags on this command line, for `load_settings(**values)`."""
    return {name: getattr(args, name) for name in Settings.model_fields if hasattr(args, name)}


def _flag_for(annotation: Any) -> dict[str, Any] | None:
    """argparse keyword arguments for a simple annotation, or None for a complex one."""
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            return None
        annotation, optional = members[0], True
    if annotation is bool:
        return {"action": argparse.BooleanOptionalAction}
    if get_origin(annotation) is Literal:
        return {"choices": list(get_args(annotation)), "metavar": "|".join(get_args(annotation))}
    if annotation in (str, int, float, Path):
        convert: Callable[[str], Any] = annotation
        return {
            "type": _or_none(convert) if optional else convert,
            "metavar": _METAVARS[annotation] + (f"|{_NONE}" if optional else ""),
        }
    return None


_METAVARS: Mapping[Any, str] = {str: "TEXT", int: "INT", float: "NUMBER", Path: "PATH"}


def _or_none(convert: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        return None if text.lower() == _NONE else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")  # argparse names it in errors
    return parse

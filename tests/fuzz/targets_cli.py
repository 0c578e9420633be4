"""Hostile command lines: `sfumato generate`, `zoom`, `morph` and `models` argument parsing, and every
check a command makes before an engine starts (its planning step). No engine is ever started: the
planning step is run, never the command's handler.

Arguments are text a shell can pass: no NUL character, and no lone surrogate.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import strategies as st
from PIL import Image

from sfumato.core.cli import build_parser
from sfumato.core.cli.commands import UsageError
from sfumato.core.cli.plan import plan_from_arguments
from sfumato.core.cli.zoom import plan_morph, plan_zoom
from tests.fuzz.targets_prompts import prompt_text
from tests.support.fuzzing import FuzzTarget
from tests.support.png_files import png_claiming

_FOLDER = Path(tempfile.mkdtemp(prefix="sfumato-fuzz-cli-"))
os.environ["SFUMATO_HOME"] = "home"  # models are looked up here, never in the user's
os.chdir(_FOLDER)  # the fuzzing child's own folder: file names stay short in its report


def _prepare_files() -> dict[str, str]:
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(image).save(_FOLDER / "image.png")
    mask = np.zeros((64, 64), dtype=np.uint8)
    mask[8:24, 8:24] = 255
    Image.fromarray(mask).save(_FOLDER / "mask.png")
    (_FOLDER / "huge.png").write_bytes(png_claiming(13_000, 13_000))
    (_FOLDER / "notes.txt").write_text("not an image")
    (_FOLDER / "model.safetensors").write_bytes(b"not a checkpoint")
    (_FOLDER / "frames").mkdir()
    names = ["image.png", "mask.png", "huge.png", "notes.txt", "model.safetensors", "frames", "missing.png"]
    return {name: name for name in names}


_FILES = _prepare_files()

_SHELL_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\0"), max_size=60
)
_HOSTILE_NUMBERS = st.sampled_from(
    [
        "0",
        "1",
        "2",
        "7",
        "0.5",
        "64",
        "-1",
        "8",
        "500",
        "501",
        "4096",
        "4104",
        "8192",
        "4294967295",
        "4294967296",
        "1e30",
        "-1e30",
        "nan",
        "inf",
        "1e400",
        "²",
        "٣",
        "1_000",
        " 7 ",
        "0x10",
        "9" * 31,
        "9" * 5000,
        "",
    ]
)
_NUMBERS = st.one_of(st.sampled_from(["1", "2", "7", "20", "64", "0.5"]), _HOSTILE_NUMBERS)
_SIZES = st.sampled_from(["64x64", "512x512", "8192x8192", "60x64", "9" * 50 + "x64", "x", " 64 x 64 ", "64"])
_MARGINS = st.sampled_from(["0,0,64,0", "8,8,8,8", "²,0,0,0", "0,0,4096,0", "8,8", "0,0,0,0", "0,0,12,0"])
_CUES = st.sampled_from(
    ["1:a cat", "2.5s:a dog", "9" * 5000 + ":x", "1" + " " * 5000 + "x:y", "1:(a:1e30)", ":"]
)
_SEEDS = st.sampled_from(["1,2", "1,2,3", "1," + "9" * 5000, "-1,2", "a,b", ","])
_PATHS = st.sampled_from(
    [
        *_FILES.values(),
        "out.png",
        "out.mp4",
        "out.gif",
        "no/out.png",
        "/",
        "a" * 5000,
        "demo",
        "org/model",
        "~/x",
    ]
)
_PROMPTS = prompt_text.map(lambda text: text.replace("\0", "").encode("utf-8", "replace").decode("utf-8"))
_ANY = st.one_of(_NUMBERS, _SIZES, _MARGINS, _CUES, _SEEDS, _PATHS, _PROMPTS, _SHELL_TEXT)

_NUMBER_OPTIONS = ["--steps", "--cfg", "--seed", "--width", "--height", "--batch", "--strength"]
_NUMBER_OPTIONS += ["--mask-blur", "--keyframes", "--factor", "--fps", "--seconds-per-keyframe", "--frames"]
_VALUES_OF: dict[str, st.SearchStrategy[str]] = {
    **dict.fromkeys(_NUMBER_OPTIONS, _NUMBERS),
    **dict.fromkeys(["--size", "--video-size"], _SIZES),
    **dict.fromkeys(["--prompt", "--negative", "--prompts"], _PROMPTS),
    **dict.fromkeys(["--model", "--out", "--init", "--mask", "--keyframes-dir", "--frames-dir"], _PATHS),
    "--extend": _MARGINS,
    "--prompt-at": _CUES,
    "--seeds": _SEEDS,
    "--device": st.sampled_from(["auto", "cpu", "cuda", "mps", "tpu"]),
    "--direction": st.sampled_from(["in", "out", "sideways"]),
    "--sampler": st.sampled_from(["Euler a", "DPM++ 2M Karras", "Euler b", ""]),
}
_PARSER = build_parser()


def _words_of(parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """The options and subcommand names a parser (and any parser under it) takes, and its flags."""
    words: list[str] = []
    flags: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                more_words, more_flags = _words_of(subparser)
                words += [name, *more_words]
                flags += [name, *more_flags]
        for option in action.option_strings:
            if option.startswith("--") and option not in ("--help", "--in-process"):
                words.append(option)
                if action.nargs == 0:
                    flags.append(option)
    return sorted(set(words)), sorted(set(flags))


_COMMANDS = {"generate", "zoom", "morph", "models"}
_OPTIONS: dict[str, list[str]] = {}
_FLAGS: set[str] = set()
for _action in _PARSER._actions:
    if isinstance(_action, argparse._SubParsersAction):
        for _name in _COMMANDS:
            _OPTIONS[_name], _flags = _words_of(_action.choices[_name])
            _FLAGS.update(_flags)
# What a working command line holds, so that most examples get past parsing to the checks after it.
_BASE = {
    "generate": ["--model", "demo", "--prompt", "a cat", "--out", "out.png"],
    "zoom": ["--model", "demo", "--prompt", "a cat", "--out", "out.mp4"],
    "morph": ["--model", "demo", "--prompts", "a cat | a dog", "--out", "out.mp4"],
    "models": ["list"],
}


@st.composite
def option(draw: st.DrawFn, name: str) -> list[str]:
    """An option with a value of its kind, now and then one of any kind, or none at all."""
    if name in _FLAGS:
        return [name]
    roll = draw(st.integers(0, 39))
    if roll == 0:
        return [name]
    return [name, draw(_ANY if roll == 1 else _VALUES_OF.get(name, _ANY))]


@st.composite
def command_line(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(sorted(_OPTIONS)))
    names = draw(st.lists(st.sampled_from(_OPTIONS[command]), max_size=5))
    tokens = [token for name in names for token in draw(option(name))]
    base = _BASE[command] if draw(st.integers(0, 9)) else []
    return [command, *base, *tokens]


_PLANS: dict[str, Callable[[Any], object]] = {
    "generate": plan_from_arguments,
    "zoom": plan_zoom,
    "morph": plan_morph,
}


def plan_command_line(argv: list[str]) -> object:
    args = _PARSER.parse_args(argv)
    plan = _PLANS.get(args.command)
    return None if plan is None else plan(args)  # `models`: its handlers reach the network


TARGETS = [FuzzTarget("command line", command_line(), plan_command_line, allowed=(UsageError,))]

"""Build the console's icon sprite from an unpacked `lucide-static` npm package.

    npm pack lucide-static && tar xzf lucide-static-*.tgz
    python scripts/build_icon_sprite.py package [extra-icon ...]

The sprite holds every icon the sidebar names (read from console/navigation.py, so a
new nav entry cannot point at an icon the sprite lacks) plus CHROME_ICONS below.
A name missing from the package fails the build instead of shipping a blank icon.

Symbols carry fill/stroke/linecap/linejoin but deliberately no stroke-width: the
`.icon` rule in static/dezky/css/base.css sets it, and an attribute on the symbol would win over
that inherited value.

Standard library only, so it runs anywhere Python does.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "static" / "dezky" / "icons" / "lucide.svg"
DEFAULT_NAVIGATION = ROOT / "console" / "navigation.py"

# Icons the chrome and shared components use, plus ones the coming pages need
# (row actions, status, sorting); keep sorted so diffs stay readable.
CHROME_ICONS = (
    "arrow-down",
    "arrow-left",
    "arrow-right",
    "arrow-up",
    "arrow-up-down",
    "arrow-up-right",
    "ban",
    "bell",
    "building",
    "check",
    "chevron-down",
    "chevron-left",
    "chevron-right",
    "chevron-up",
    "chevrons-up-down",
    "circle-alert",
    "circle-check",
    "circle-x",
    "clock",
    "command",
    "construction",
    "copy",
    "corner-down-left",
    "ellipsis",
    "external-link",
    "eye",
    "eye-off",
    "filter",  # old name of funnel, kept so either spelling renders
    "funnel",
    "history",
    "house",
    "inbox",
    "info",
    "key-round",
    "keyboard",
    "loader-circle",
    "lock",
    "log-in",
    "log-out",
    "mail",
    "menu",
    "moon",
    "more-horizontal",  # old name of ellipsis, kept so either spelling renders
    "panel-left-close",
    "panel-left-open",
    "pencil",
    "plus",
    "refresh-cw",
    "rows-2",
    "rows-3",
    "search",
    "server-crash",
    "shield-alert",
    "sliders-horizontal",
    "sun",
    "sun-moon",
    "trash-2",
    "triangle-alert",
    "user",
    "user-plus",
    "user-round",
    "x",
    "zap",
)

SVG_NS = "{http://www.w3.org/2000/svg}"
SYMBOL_ATTRS = (
    'viewBox="0 0 24 24" fill="none" stroke="currentColor" '
    'stroke-linecap="round" stroke-linejoin="round"'
)


def navigation_icons(navigation: Path) -> list[str]:
    """Icon names of every NavEntry(...) call, positional (3rd) or `icon=`."""
    tree = ast.parse(navigation.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "NavEntry"):
            continue
        value = None
        for keyword in node.keywords:
            if keyword.arg == "icon":
                value = keyword.value
        if value is None and len(node.args) >= 3:
            value = node.args[2]
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            names.append(value.value)
    return names


def _serialise(element: ET.Element) -> str:
    tag = element.tag.removeprefix(SVG_NS)
    attrs = "".join(f" {key}={quoteattr(val)}" for key, val in element.attrib.items())
    children = "".join(_serialise(child) for child in element)
    return f"<{tag}{attrs}>{children}</{tag}>" if children else f"<{tag}{attrs}/>"


def symbol_for(icons_dir: Path, name: str) -> str:
    # The SVGs come from the lucide-static package a developer unpacked, not from users.
    root = ET.parse(icons_dir / f"{name}.svg").getroot()  # noqa: S314
    body = "".join(_serialise(child) for child in root)
    return f'<symbol id="i-{name}" {SYMBOL_ATTRS}>{body}</symbol>'


def package_version(package_dir: Path) -> str:
    try:
        return json.loads((package_dir / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, KeyError, ValueError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="unpacked lucide-static folder ('package')")
    parser.add_argument("extra", nargs="*", help="further icon names to include")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--navigation", type=Path, default=DEFAULT_NAVIGATION)
    args = parser.parse_args(argv)

    package_dir: Path = args.package
    icons_dir = package_dir / "icons" if (package_dir / "icons").is_dir() else package_dir
    names = sorted(set(navigation_icons(args.navigation)) | set(CHROME_ICONS) | set(args.extra))
    missing = [name for name in names if not (icons_dir / f"{name}.svg").is_file()]
    if missing:
        print(f"not in lucide-static: {', '.join(missing)}", file=sys.stderr)
        return 1

    version = package_version(icons_dir.parent if icons_dir.name == "icons" else package_dir)
    lines = [
        '<svg xmlns="http://www.w3.org/2000/svg">',
        f"<!-- Lucide icons from lucide-static {version}, ISC licence "
        "(static/vendor/LICENSE-lucide.txt). Generated by scripts/build_icon_sprite.py. -->",
        *(symbol_for(icons_dir, name) for name in names),
        "</svg>",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(names)} icons -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

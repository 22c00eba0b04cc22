"""Griffe extension for the docs site: neurocomp's Sphinx/RST docstring markup as Markdown.

neurocomp's docstrings are numpydoc with Sphinx roles (``:func:`count```,
``:class:`~neurocomp.results.Result```, ``:math:`\\tau```) and a few RST constructs
(``.. math::`` blocks, ``::`` literal blocks, definition lists). mkdocstrings renders
docstrings as Markdown, so before griffe parses each docstring this extension rewrites:

* ``:func:`` / ``:class:`` / ``:meth:`` / ``:mod:`` / ``:data:`` / ``:attr:`` / ``:obj:`` /
  ``:exc:`` / ``:const:`` — an *optional* autorefs cross-reference to the object, resolved in
  the docstring's scope as Sphinx does (``~`` keeps the last name only). It links when the
  object is rendered somewhere on the site and stays plain code (no warning) when it is not,
  e.g. a private helper or an object of another package;
* ``:math:`x``` — inline math ``\\(x\\)``; ``.. math::`` — a display block ``\\[ … \\]``
  (``pymdownx.arithmatex``, rendered by MathJax);
* ``text::`` followed by an indented block — ``text:`` and a fenced code block;
* an RST definition list (a line followed by a more indented one, outside the numpydoc
  item sections) — a Markdown definition list (``def_list``);
* a Sphinx ``~`` before a type name in a numpydoc item section — the name.

Used by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``); the
Python files are not changed. Standard library and griffe only.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

#: Sphinx roles that name a Python object.
_OBJECT_ROLES = ("func", "class", "meth", "mod", "data", "attr", "obj", "exc", "const", "type")
_ROLE = re.compile(r":(?:py:)?(?P<role>[a-z]+):`(?P<body>[^`]+)`")
_TITLED = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
#: numpydoc sections whose body griffe parses as items (``name : type`` + description).
_ITEM_SECTIONS = {"parameters", "other parameters", "type parameters", "returns", "yields",
                  "receives", "raises", "warns", "attributes", "functions", "methods",
                  "classes", "type aliases", "modules", "examples"}
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)]|#\.)\s")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _blank(line: str) -> bool:
    return not line.strip()


def _is_dash_line(line: str) -> bool:
    s = line.strip()
    return len(s) >= 3 and set(s) == {"-"}


def _resolve(obj: griffe.Object | None, target: str, collection: Any) -> str:
    """The full (canonical where known) path that ``target`` names in ``obj``'s scope."""
    target = target.lstrip(".")
    if obj is None or collection is None:  # no scope (text outside the API): as written
        return target
    first, _, rest = target.partition(".")
    full = target
    if first not in collection.members:  # not already an absolute path of a loaded package
        try:
            full = obj.resolve(first) + (f".{rest}" if rest else "")
        except Exception:  # unresolvable: keep the name as written
            full = target
    try:
        found = collection.get_member(full)
    except Exception:  # not loaded (other package) or not an object
        return full
    try:
        return found.final_target.path if found.is_alias else found.path
    except Exception:  # an alias whose target is not loaded
        return full


def _role(match: re.Match[str], obj: griffe.Object | None, collection: Any) -> str:
    role, body = match["role"], match["body"].strip()
    if role == "math":
        return rf"\({body}\)"
    if role not in _OBJECT_ROLES:  # :ref:, :cite:, :term: … : the text as code
        return f"`{body}`"
    titled = _TITLED.match(body)
    if titled:
        title, target = titled["title"], titled["target"].strip()
    else:
        target = re.sub(r"\s+", "", body)  # broken over two lines: Sphinx misses it, we don't
        short = target.startswith("~")
        target = target.lstrip("~!")
        title = target.rsplit(".", 1)[-1] if short else target
        if role in ("func", "meth"):
            title += "()"
    identifier = _resolve(obj, target.lstrip("~!"), collection)
    return f'<autoref identifier="{identifier}" optional>`{title}`</autoref>'


def _math_blocks(lines: list[str]) -> list[str]:
    """``.. math:: expr`` (and its indented continuation) as a ``\\[ … \\]`` block."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^(?P<ind>\s*)\.\. math::\s*(?P<first>.*)$", line)
        if not m:
            out.append(line)
            i += 1
            continue
        ind = m["ind"]
        body = [m["first"]] if m["first"].strip() else []
        i += 1
        while i < len(lines) and (_blank(lines[i]) or _indent(lines[i]) > len(ind)):
            body.append(lines[i].strip())
            i += 1
        while body and not body[-1]:
            body.pop()
        if out and not _blank(out[-1]):
            out.append("")
        out += [f"{ind}\\[", *(f"{ind}{b}" for b in body if b), f"{ind}\\]"]
        if i < len(lines) and not _blank(lines[i]):
            out.append("")
    return out


def _literal_blocks(lines: list[str]) -> list[str]:
    """RST ``text::`` + blank + indented block as ``text:`` and a fenced code block."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.rstrip()
        if (not stripped.endswith("::") or stripped.lstrip().startswith("..")
                or i + 2 >= len(lines) or not _blank(lines[i + 1])
                or _indent(lines[i + 2]) <= _indent(line) or _blank(lines[i + 2])):
            out.append(line)
            i += 1
            continue
        ind = " " * _indent(line)
        text = stripped[:-2].rstrip()
        if text.strip():
            out.append(text + ("" if text.endswith(":") else ":"))
        out += ["", f"{ind}```"]
        i += 2
        block: list[str] = []
        while i < len(lines) and (_blank(lines[i]) or _indent(lines[i]) > _indent(line)):
            block.append(lines[i])
            i += 1
        while block and _blank(block[-1]):
            block.pop()
        common = min(_indent(b) for b in block if not _blank(b))
        out += [f"{ind}{b[common:]}" if not _blank(b) else "" for b in block]
        out += [f"{ind}```", ""]
    return out


def _definition_lists(lines: list[str]) -> list[str]:
    """RST definition lists outside numpydoc item sections as Markdown ``def_list``."""
    out: list[str] = []
    section: str | None = None
    fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(("```", "\\[", "\\]")):
            fence = not fence if line.lstrip().startswith("```") else fence
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if _indent(line) == 0 and not _blank(line) and _is_dash_line(nxt):
            section = line.strip().lower()
            out += [line, nxt]
            i += 2
            continue
        in_items = section in _ITEM_SECTIONS
        if in_items and _indent(line) == 0 and re.fullmatch(r"~[\w.]+", line.strip()):
            line = line.strip()[1:]  # a Sphinx "~" before a type (Raises/Returns): the name
        is_term = (not fence and not in_items and not _blank(line) and not _blank(nxt)
                   and _indent(nxt) > _indent(line) and not _LIST_ITEM.match(line)
                   and not line.rstrip().endswith(("::", ":")) and not _LIST_ITEM.match(nxt)
                   and not line.lstrip().startswith(("\\[", "```", ">>>", "|", "<")))
        if not is_term or (out and not _blank(out[-1]) and not _is_dash_line(out[-1])
                           and _indent(out[-1]) >= _indent(line)):
            out.append(line)
            i += 1
            continue
        ind = " " * _indent(line)
        if out and not _blank(out[-1]) and not _is_dash_line(out[-1]):
            out.append("")
        out.append(line)
        i += 1
        first = True
        while i < len(lines) and not _blank(lines[i]) and _indent(lines[i]) > _indent(line):
            out.append(f"{ind}{':   ' if first else '    '}{lines[i].strip()}")
            first = False
            i += 1
        if i < len(lines) and not _blank(lines[i]):
            out.append("")
    return out


def rewrite_roles(text: str, obj: griffe.Object | None = None, collection: Any = None) -> str:
    """``text`` with its Sphinx roles written as Markdown, fenced code blocks left alone
    (for Markdown pages that quote docstrings, such as ``docs/MODULES.md``)."""
    parts = re.split(r"(^\s*```.*?^\s*```)", text, flags=re.M | re.S)
    return "".join(p if k % 2 else _ROLE.sub(lambda m: _role(m, obj, collection), p)
                   for k, p in enumerate(parts))


def rewrite(text: str, obj: griffe.Object | None = None, collection: Any = None) -> str:
    """``text`` (one docstring) with its Sphinx/RST markup written as Markdown."""
    lines = text.splitlines()
    lines = _math_blocks(lines)
    lines = _literal_blocks(lines)
    lines = _definition_lists(lines)
    # roles last: never inside the fenced code blocks made above
    return rewrite_roles("\n".join(lines), obj, collection)


class SphinxRoles(griffe.Extension):
    """Rewrite every docstring of a loaded package before it is parsed (see the module)."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader,
                   **kwargs: Any) -> None:
        seen: set[int] = set()

        def visit(obj: griffe.Object) -> None:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if obj.docstring is not None:
                obj.docstring.value = rewrite(obj.docstring.value, obj,
                                              loader.modules_collection)
            for member in obj.members.values():
                if not member.is_alias:
                    visit(member)

        visit(pkg)

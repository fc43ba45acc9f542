"""Plain-text layout for terminal output: clipped lines, wrapped paragraphs, wide tables."""
from __future__ import annotations

import textwrap

__all__ = ["clip", "wrap", "paragraphs", "readable_table"]


def paragraphs(lines) -> list[str]:
    """Join hard-wrapped lines into paragraphs: a line starts a new paragraph when the previous
    one ends a sentence ('.', ':') and it starts with a capital letter, a bullet or a heading."""
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        starts_new = not out or (out[-1].endswith((".", ":", ")")) and
                                 (line[:1].isupper() or line[:1] in "-*#"))
        if starts_new:
            out.append(line)
        else:
            out[-1] += " " + line
    return out


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[:max(width - 3, 10)] + "..."


def wrap(text: str, width: int, first: str = "", rest: str = "") -> str:
    """``text`` filled to ``width``; the first line starts with ``first``, the others with
    ``rest``."""
    return textwrap.fill(text, width=max(width, 40), initial_indent=first,
                         subsequent_indent=rest) or first.rstrip()


def readable_table(df, width: int) -> str:
    """Short columns as a table (split into blocks that fit ``width``), rows numbered by their
    file line; long text columns (sources, notes) wrapped below, per row."""
    lines = df.attrs.get("lines") or list(range(1, len(df) + 1))
    t = df.copy()
    t.index = lines
    t.index.name = "line"
    text_cols = [c for c in t.columns if "__" not in c]
    long = [c for c in text_cols if t[c].astype(str).str.len().max() > 28]
    short = t.drop(columns=long)
    out = []
    if len(short.columns):
        out.append(short.to_string(line_width=width, na_rep="--"))
        if short.isna().any().any():
            out.append("(-- : missing; no value is assumed)")
    if long:
        out.append("")
        for line, row in t[long].iterrows():
            parts = [f"{c}: {row[c]}" for c in long if str(row[c]).strip()]
            if parts:
                out.append(wrap("; ".join(parts), width, f"line {line}: ", "    "))
    return "\n".join(out)

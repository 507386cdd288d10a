"""Markdown tables and number formats for glued output (myst-nb ``{glue:md}``)."""

from __future__ import annotations

import numbers


def thousands(n) -> str:
    """138357544 -> '138,357,544'."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an integer, got {n!r}")
    return f"{int(n):,}"


def millions(n, digits: int = 1) -> str:
    """138357544 -> '138.4' (put the unit, M, in the column header)."""
    return f"{n / 1e6:.{digits}f}"


def billions(n, digits: int = 2) -> str:
    """4089184256 -> '4.09' (put the unit, G, in the column header)."""
    return f"{n / 1e9:.{digits}f}"


def markdown_table(header: list[str], rows: list[list], align: str | None = None) -> str:
    """A Markdown pipe table. ``align`` is one letter per column: l, r or c (default: l)."""
    if not header:
        raise ValueError("header must name at least one column")
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"rows[{i}] has {len(row)} cells, header has {len(header)}")
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - set("lrc"):
        raise ValueError(f"align must be {len(header)} letters from 'lrc', got {align!r}")
    rule = {"l": ":--", "r": "--:", "c": ":-:"}
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule[a] for a in align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def stage_table(counts) -> str:
    """Markdown table of parameters and MACs per top-level stage of a counted network, with shares.

    Stages with neither parameters nor MACs (pooling, flattening) are left out.
    """
    rows = []
    for name, (params, macs) in counts.by_prefix(1).items():
        if params or macs:
            rows.append([name, thousands(params), f"{100 * params / counts.params:.1f}",
                         f"{macs / 1e6:,.0f}", f"{100 * macs / counts.macs:.1f}"])
    rows.append(["**total**", f"**{thousands(counts.params)}**", "100.0", f"**{counts.macs / 1e6:,.0f}**", "100.0"])
    return markdown_table(["Stage", "Parameters", "% of parameters", "MMACs", "% of MACs"], rows, "lrrrr")

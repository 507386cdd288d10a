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


# ---- residual pages: numbers in prose
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def sci(value, digits: int = 2) -> str:
    """A number for prose, in scientific notation only when it needs it.

    ``digits`` significant digits; values from 0.01 to 10,000 (exclusive) are written plainly
    (0.89, 4.2, 40), others as a power of ten with Unicode superscripts (2.3 × 10⁷, 7 × 10⁻³¹),
    which read the same on the site and in JupyterLab.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"value must be a real number, got {value!r}")
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
        raise ValueError(f"digits must be an integer >= 1, got {digits!r}")
    if value == 0 or 0.01 <= abs(value) < 1e4:
        return f"{float(f'{value:.{digits}g}'):g}"          # rounded, never in e-notation
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
    power = f"10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return power if mantissa == "1" else f"{mantissa} × {power}"

"""Human-readable stage summary (validate, stage-info, the console)."""

from __future__ import annotations

from typing import Any


def _fmt_px(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{summary['name']}: {summary['cabinets']} cabinets, {_fmt_px(summary['led_pixels'])} LED pixels, "
             f"{summary['frame_rate']} fps", "", "sections:"]
    for s in summary["sections"]:
        lines.append(f"  {s['name']:<16} {s['kind']:<8} {s['panel']:<20} {s['cabinets']:>5} cabinets "
                     f"{_fmt_px(s['led_pixels']):>12} px")
    lines += ["", "canvases:"]
    for c in summary["canvases"]:
        share = 100.0 * c["used_pixels"] / (c["width"] * c["height"])
        lines.append(f"  {c['name']:<16} {c['width']}x{c['height']:<6} {c['transport']:<4} node {c['node']:<10} "
                     f"{_fmt_px(c['used_pixels']):>12} px used ({share:.0f}%)")
    lines += ["", "nodes:"]
    for n in summary["nodes"]:
        where = f"{n['host']} {'cpu' if n['gpu'] is None else 'gpu ' + str(n['gpu'])}"
        role = " (spare)" if n["spare"] else ""
        lines.append(f"  {n['name']:<16} {where:<20} {', '.join(n['canvases']) or '-':<30} "
                     f"{_fmt_px(n['led_pixels']):>12} px{role}")
    if summary["port_loads"]:
        lines += ["", "port loads:"]
        for r in summary["port_loads"]:
            lines.append(f"  {r['processor']:<16} port {r['port']:<3} {_fmt_px(r['pixels']):>12} / "
                         f"{_fmt_px(r['capacity']):>12} px ({r['percent']}%)")
    return "\n".join(lines)

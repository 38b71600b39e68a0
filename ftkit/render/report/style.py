"""The HTML report's stylesheet, inlined into the page (no external file, font or script)."""

CSS = """
:root {
  --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --bg: #f5f7fa; --card: #ffffff;
  --error: #c62828; --error-bg: #fdecea; --warning: #8e5b00; --warning-bg: #fff4d6;
  --info: #1e6091; --info-bg: #e6f1fa; --ok: #1b7a46; --ok-bg: #e5f6ec;
  --mono: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace;
}
* { box-sizing: border-box; }
html { background: var(--bg); }
body {
  margin: 0 auto; padding: 24px 20px 48px; max-width: 1120px; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
        "Microsoft YaHei", sans-serif;
}
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 12px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 18px 0 8px; }
p { margin: 6px 0 10px; }
code, pre, .mono { font-family: var(--mono); font-size: 13px; }
.meta { color: var(--muted); margin: 0 0 16px; overflow-wrap: anywhere; }
.verdict { border-radius: 10px; padding: 14px 18px; margin: 0 0 16px; font-size: 17px; border-left: 6px solid; }
.verdict strong { display: block; font-size: 22px; margin-bottom: 2px; }
.verdict.ready { background: var(--ok-bg); border-color: var(--ok); }
.verdict.ready-with-warnings { background: var(--warning-bg); border-color: #d49a00; }
.verdict.not-ready { background: var(--error-bg); border-color: var(--error); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 10px; margin: 0 0 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .num { display: block; font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 13px; }
a { color: var(--info); }
nav.toc { margin: 0 0 20px; font-size: 14px; }
nav.toc a { color: var(--info); text-decoration: none; margin-right: 14px; white-space: nowrap; }
nav.toc a:hover { text-decoration: underline; }
section.block { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin: 0 0 18px; }
.table-wrap { overflow-x: auto; margin: 8px 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 13px; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.wrap { overflow-wrap: anywhere; min-width: 240px; }
.sev { display: inline-block; white-space: nowrap; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.sev.error { color: var(--error); background: var(--error-bg); }
.sev.warning { color: var(--warning); background: var(--warning-bg); }
.sev.info { color: var(--info); background: var(--info-bg); }
.sev.none { color: var(--ok); background: var(--ok-bg); }
.rule { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 10px 0; }
.rule > summary { cursor: pointer; font-weight: 600; }
.rule > summary .count { color: var(--muted); font-weight: 400; }
.rule .doc { color: var(--muted); margin: 6px 0; }
.example { margin: 8px 0 10px; }
.example .where { font-size: 13px; color: var(--muted); }
.example .msg { overflow-wrap: anywhere; }
pre.line {
  margin: 4px 0 0; padding: 6px 10px; background: var(--bg); border-radius: 6px; border: 1px solid var(--line);
  white-space: pre-wrap; overflow-wrap: anywhere; max-height: 9em; overflow-y: auto;
}
.more { color: var(--muted); font-size: 14px; }
.charts { display: grid; grid-template-columns: minmax(0, 5fr) minmax(0, 3fr); gap: 16px; align-items: start; }
@media (max-width: 820px) { .charts { grid-template-columns: 1fr; } }
figure { margin: 8px 0; }
figcaption { color: var(--muted); font-size: 13px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart * { stroke-linejoin: round; stroke-linecap: butt; }
ul.plain { margin: 6px 0; padding-left: 20px; }
ul.plain li { margin: 3px 0; overflow-wrap: anywhere; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin-right: 8px; vertical-align: -1px; }
.note { color: var(--muted); font-size: 14px; }
.nothing { color: var(--ok); }
footer { color: var(--muted); font-size: 13px; margin-top: 24px; }
@media print { html { background: #fff; } section.block { break-inside: avoid; border: none; } nav.toc { display: none; } }
"""

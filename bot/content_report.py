"""One HTML page for a safeguarding lead to review everything the assistant says.

`python -m bot content report` (`make content-report`) writes it. Every item of `content/` is
shown as the assistant sends it: each of its texts (for anyone, per age band, per audience or
topic) in each region whose numbers make it differ, with the deployment's settings filled in.
Each item lists its sources with the date they were read and its review date; items past their
review date come first. Under each text, every number or address it shows is traced to its
entry in `content/resources.yml` and to the line of the reference facts that supports it; a
value no facts line names is marked, so a reviewer sees what is unsupported.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path

from bot.content import AGE_SLOT, Content, Item, Variant, load_content, resources_named
from bot.nlg import runtime_values
from bot.settings import PROJECT_DIR, REGIONS, VAR_DIR, Settings

FACTS_FILE = PROJECT_DIR.parent / "shared" / "reference" / "facts.md"
REPORT_FILE = VAR_DIR / "results" / "content-report.html"
_AGE_NAMES = {"under_7": "under 7", "7_to_10": "7 to 10", "11_to_13": "11 to 13", "14_to_17": "14 to 17"}
# What in a resource's value is a number or an address a reviewer would check against the facts.
_CHECKABLE = re.compile(
    r"\+?\d[\d .-]{4,}\d"  # a phone number
    r"|\b\d{2,5}\b"  # a short number (999, 116 123, 85258)
    r"|[\w.-]+\.(?:org|uk|com|gov|ie|ca|au)(?:\.[a-z]{2})?(?:/[\w/-]*)?"  # a web address
    r"|\b1\.888\.[A-Z]+"  # a US number in letters
)


@dataclass(frozen=True)
class Trace:
    resource: str
    region: str
    shown: str
    source: str
    facts: tuple[tuple[str, str | None], ...]  # each number or address shown, and the facts line naming it


def _facts_lines(facts_file: Path) -> list[str]:
    return facts_file.read_text(encoding="utf-8").splitlines() if facts_file.exists() else []


def _facts_for(shown: str, facts: list[str]) -> tuple[tuple[str, str | None], ...]:
    """Each number and address in `shown`, with the first facts line that names it (None if none does)."""
    found = []
    for token in dict.fromkeys(t.strip(" .-/") for t in _CHECKABLE.findall(shown)):
        line = next((line.strip() for line in facts if token.lower() in line.lower()), None)
        found.append((token, line))
    return tuple(found)


def _describe(variant: Variant) -> str:
    if not variant.when:
        return "for anyone"
    parts = []
    for slot, value in variant.when:
        if slot == AGE_SLOT:
            parts.append(f"a child aged {_AGE_NAMES.get(value, value)}")
        else:
            parts.append(f"{slot.replace('_', ' ')}: {value.replace('_', ' ')}")
    return "when " + ", ".join(parts)


def _as_sent(content: Content, item: Item, text: str, region: str, settings: dict[str, str]) -> str:
    filled = content.fill(text, region, item.key)
    for name, value in settings.items():
        filled = filled.replace("{" + name + "}", value)
    return re.sub(r"{(\w+)}", lambda m: f"[{m.group(1).replace('_', ' ')}, set by the school]", filled)


def _traces(content: Content, text: str, regions: tuple[str, ...], facts: list[str]) -> list[Trace]:
    found = []
    for key in resources_named(text):
        resource = content.resources.get(key)
        if resource is None:
            continue
        for region in regions:
            shown = resource.values[region]
            found.append(Trace(key, region, shown, resource.sources[region], _facts_for(shown, facts)))
    return found


def _ordered(content: Content, today: dt.date) -> list[Item]:
    return sorted(content.items.values(), key=lambda i: (i.review_by >= today, i.topic, i.key))


def _variant_rows(content: Content, item: Item, settings: dict[str, str]) -> str:
    rows = []
    for variant in item.variations():
        by_region = {region: _as_sent(content, item, variant.text, region, settings) for region in REGIONS}
        groups: dict[str, list[str]] = {}
        for region, text in by_region.items():
            groups.setdefault(text, []).append(region)
        for text, regions in groups.items():
            where = "every region" if len(regions) == len(REGIONS) else ", ".join(r.upper() for r in regions)
            buttons = "".join(f"<span class=button>{html.escape(b.title)}</span>" for b in variant.buttons)
            rows.append(
                f"<tr><td class=when>{html.escape(_describe(variant))}<br><small>{where}</small></td>"
                f"<td><p class=message>{html.escape(text)}</p>{buttons}</td></tr>"
            )
    return "".join(rows)


def _trace_list(content: Content, item: Item, facts: list[str]) -> str:
    """Every resource the item shows, per region, with the facts line behind each number and address."""
    texts = " ".join(variant.text for variant in item.variations())
    entries = []
    for trace in _traces(content, texts, REGIONS, facts):
        checks = "".join(
            f"<li>{html.escape(token)}: "
            + (f"<q>{html.escape(line)}</q>" if line else "<strong class=missing>not found in facts.md</strong>")
            + "</li>"
            for token, line in trace.facts
        )
        entries.append(
            f"<li><code>{html.escape(trace.resource)}</code> ({trace.region.upper()}): "
            f"{html.escape(trace.shown)} <small>checked at {html.escape(trace.source)}</small>"
            + (f"<ul>{checks}</ul>" if checks else "")
            + "</li>"
        )
    return f"<h3>Numbers and addresses</h3><ul class=facts>{''.join(entries)}</ul>" if entries else ""


def build_report(settings: Settings, content: Content | None = None, today: dt.date | None = None,
                 facts_file: Path = FACTS_FILE) -> str:  # fmt: skip
    """The report as one self-contained HTML page."""
    content = content or load_content()
    today = today or dt.date.today()
    facts = _facts_lines(facts_file)
    values = runtime_values(settings)
    items = _ordered(content, today)
    overdue = sum(1 for i in items if i.review_by < today)
    sections = []
    for item in items:
        late = item.review_by < today
        sources = "".join(
            f'<li><a href="{html.escape(s.url)}">{html.escape(s.title)}</a> <small>{html.escape(s.url)},'
            f" read {s.checked.isoformat()}</small></li>"
            for s in item.sources
        )
        sections.append(
            f'<section class="item{" overdue" if late else ""}" id="{item.key}" data-key="{item.key}">'
            f"<h2>{html.escape(item.key)} <small>{html.escape(item.topic)}.yml</small></h2>"
            f"<p class=meta>For: {html.escape(', '.join(item.audiences))}. Review by "
            f"<strong>{item.review_by.isoformat()}</strong>{' (past its review date)' if late else ''}."
            f"{' Says the child is not to blame.' if item.not_to_blame else ''}</p>"
            f"<ul class=sources>{sources}</ul>"
            f"<table>{_variant_rows(content, item, values)}</table>{_trace_list(content, item, facts)}</section>"
        )
    return _PAGE.format(
        today=today.isoformat(),
        count=len(items),
        overdue=overdue,
        region=settings.region.upper(),
        nation=settings.nation.replace("_", " ").title(),
        sections="".join(sections),
    )


def write_report(settings: Settings, target: Path = REPORT_FILE) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(build_report(settings), encoding="utf-8")
    return target


_PAGE = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Talk Together: content for review</title>
<style>
body {{ font: 16px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #1b1b1b; }}
h1 {{ font-size: 1.6em; }}
h2 {{ font-size: 1.15em; margin: 0 0 .3em; }}
h2 small {{ color: #555; font-weight: normal; }}
h3 {{ font-size: 1em; margin: .8em 0 0; }}
section.item {{ border: 1px solid #ccc; border-radius: .4em; padding: 1em; margin: 1em 0; }}
section.overdue {{ border: 3px solid #b00020; background: #fff4f4; }}
table {{ border-collapse: collapse; width: 100%; }}
td {{ border-top: 1px solid #e3e3e3; padding: .5em; vertical-align: top; }}
td.when {{ width: 12em; color: #444; }}
p.message {{ margin: 0 0 .4em; }}
.button {{ display: inline-block; border: 1px solid #2a5db0; color: #2a5db0; border-radius: 1em;
  padding: 0 .7em; margin: 0 .3em .3em 0; font-size: .9em; }}
ul.facts {{ font-size: .85em; color: #333; margin: .3em 0 0; }}
q {{ color: #245; }}
.missing {{ color: #b00020; }}
.meta, ul.sources {{ font-size: .9em; }}
</style></head><body>
<h1>Talk Together: everything the assistant says</h1>
<p>Built {today} for region {region} (schools in {nation}). {count} messages; <strong>{overdue}</strong> past their
review date, shown first. Each text is shown as it is sent; numbers and addresses are traced to
<code>content/resources.yml</code> and the reference facts.</p>
{sections}
</body></html>
"""

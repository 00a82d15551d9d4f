"""One self-contained HTML page to read a chain: timeline, filters, alternatives. No network."""

from __future__ import annotations

import html
import json
from collections import Counter

from crucible.trace._chain import Chain
from crucible.trace._event import Event, EventType

__all__ = ["to_html"]

_COLOURS = {
    EventType.HYPOTHESIS_FORMED: "#2563eb",
    EventType.ALTERNATIVE_REJECTED: "#dc2626",
    EventType.CONSTRAINT_EVALUATED: "#d97706",
    EventType.PATTERN_APPLIED: "#059669",
    EventType.AMBIGUITY_FLAGGED: "#7c3aed",
    EventType.CONFIDENCE_UPDATED: "#0891b2",
}
_OTHER = "#6b7280"

_CSS = """
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;
margin:0;color:#111827;background:#f9fafb}header{padding:16px 24px;background:#fff;
border-bottom:1px solid #e5e7eb}h1{font-size:20px;margin:0 0 4px}.meta{color:#6b7280}
main{display:flex;gap:24px;padding:16px 24px}aside{flex:0 0 250px;position:sticky;top:16px;
align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:12px}
aside h2{font-size:13px;text-transform:uppercase;color:#6b7280;margin:12px 0 6px}
aside label{display:block;margin:3px 0}aside input[type=search]{width:100%;padding:5px}
#timeline{flex:1;list-style:none;margin:0;padding:0 0 0 18px;border-left:2px solid #d1d5db}
.event{position:relative;background:#fff;border:1px solid #e5e7eb;border-radius:8px;
padding:10px 14px;margin:0 0 12px}.event:before{content:"";position:absolute;left:-26px;top:14px;
width:12px;height:12px;border-radius:50%;background:var(--c);border:2px solid #fff}
.badge{display:inline-block;color:#fff;background:var(--c);border-radius:10px;padding:1px 8px;
font-size:12px}.time{color:#6b7280;font-size:12px;margin-left:8px}.decision{font-weight:600;
margin:6px 0}.bar{display:inline-block;width:90px;height:8px;background:#e5e7eb;
border-radius:4px;vertical-align:middle;margin-right:6px}.bar span{display:block;height:100%;
border-radius:4px;background:var(--c)}.low{color:#b91c1c}.alts{margin:6px 0 0;padding-left:18px}
.alts li{color:#6b7280;text-decoration:line-through}.reasoning{white-space:pre-wrap;margin:6px 0}
.ref{color:#374151;font-size:12px}code{background:#f3f4f6;padding:0 4px;border-radius:4px}
#count{color:#6b7280;margin:8px 0 0}
"""

_JS = """
(function(){
  var events=[].slice.call(document.querySelectorAll('#timeline .event'));
  var types=[].slice.call(document.querySelectorAll('input[data-filter-type]'));
  var minC=document.getElementById('min-confidence'),maxC=document.getElementById('max-confidence');
  var noConf=document.getElementById('no-confidence'),text=document.getElementById('text');
  var out=document.getElementById('count'),minOut=document.getElementById('min-out'),
      maxOut=document.getElementById('max-out');
  function apply(){
    var on={};types.forEach(function(t){on[t.getAttribute('data-filter-type')]=t.checked;});
    var lo=parseFloat(minC.value),hi=parseFloat(maxC.value),q=text.value.toLowerCase(),shown=0;
    minOut.textContent=lo.toFixed(2);maxOut.textContent=hi.toFixed(2);
    events.forEach(function(e){
      var c=e.getAttribute('data-confidence'),ok=on[e.getAttribute('data-type')];
      if(ok){ok=c===''?noConf.checked:(parseFloat(c)>=lo&&parseFloat(c)<=hi);}
      if(ok&&q){ok=e.textContent.toLowerCase().indexOf(q)>=0;}
      e.hidden=!ok;if(ok){shown++;}
    });
    out.textContent=shown+' of '+events.length+' events shown';
  }
  types.concat([minC,maxC,noConf,text]).forEach(function(i){i.addEventListener('input',apply);});
  apply();
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _colour(type_: str) -> str:
    return _COLOURS.get(EventType(type_), _OTHER) if type_ in _COLOURS else _OTHER


def _card(index: int, event: Event, low: float) -> str:
    conf = "" if event.confidence is None else repr(event.confidence)
    parts = [
        f'<li class="event" id="event-{index}" data-type="{_e(event.type)}" '
        f'data-confidence="{conf}" style="--c:{_colour(event.type)}">',
        f'<span class="badge">{_e(event.type)}</span>'
        f'<span class="time">#{index + 1} · {_e(event.time.isoformat())}</span>',
        f'<div class="decision">{_e(event.decision)}</div>',
    ]
    if event.confidence is not None:
        cls = ' class="low"' if event.confidence < low else ""
        parts.append(
            f'<div><span class="bar"><span style="width:{event.confidence * 100:.0f}%"></span>'
            f"</span><span{cls}>confidence {event.confidence:.2f}</span></div>"
        )
    if event.reasoning:
        parts.append(f'<div class="reasoning">{_e(event.reasoning)}</div>')
    if event.alternatives:
        items = "".join(f"<li>{_e(a)}</li>" for a in event.alternatives)
        parts.append(f'<div class="ref">Alternatives set aside:</div><ul class="alts">{items}</ul>')
    refs = []
    if event.code_section:
        refs.append(f"code <code>{_e(event.code_section)}</code>")
    if event.spec_reference:
        refs.append(f"spec {_e(event.spec_reference)}")
    if event.span_id:
        refs.append(f"model call <code>{_e(event.trace_id)}/{_e(event.span_id)}</code>")
    if refs:
        parts.append(f'<div class="ref">{" · ".join(refs)}</div>')
    parts.append("</li>")
    return "".join(parts)


def to_html(chain: Chain, *, low_confidence: float = 0.5) -> str:
    """A single HTML file showing ``chain`` as a timeline, with filters by type and confidence
    and a text search; everything inline (no scripts, fonts or styles from the network)."""
    stats = chain.statistics(low_confidence=low_confidence)
    counts = Counter(e.type for e in chain.events)
    filters = "".join(
        f'<label><input type="checkbox" checked data-filter-type="{_e(t)}"> '
        f'<span class="badge" style="--c:{_colour(t)}">{_e(t)}</span> {n}</label>'
        for t, n in sorted(counts.items())
    )
    mean = "—" if stats.mean_confidence is None else f"{stats.mean_confidence:.2f}"
    duration = "—" if stats.duration_s is None else f"{stats.duration_s:.1f} s"
    cards = "\n".join(_card(i, e, low_confidence) for i, e in enumerate(chain.events))
    data = json.dumps(chain.to_dict(), ensure_ascii=False).replace("<", "\\u003c")
    title = _e(chain.name or chain.id)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reasoning chain: {title}</title><style>{_CSS}</style></head>
<body><header><h1>Reasoning chain: {title}</h1>
<div class="meta">{stats.n_events} events · {stats.n_decision_points} decision points ·
mean confidence {mean} · {stats.n_low_confidence} below {low_confidence:g} · duration {duration}
· created {_e(chain.created.isoformat())} · id <code>{_e(chain.id)}</code></div></header>
<main><aside><h2>Types</h2>{filters}
<h2>Confidence</h2>
<label>min <input type="range" id="min-confidence" min="0" max="1" step="0.05" value="0">
<output id="min-out">0.00</output></label>
<label>max <input type="range" id="max-confidence" min="0" max="1" step="0.05" value="1">
<output id="max-out">1.00</output></label>
<label><input type="checkbox" id="no-confidence" checked> events without confidence</label>
<h2>Search</h2><input type="search" id="text" placeholder="decision, reasoning…">
<p id="count">{stats.n_events} events</p></aside>
<ol id="timeline">
{cards}
</ol></main>
<script type="application/json" id="chain-data">{data}</script>
<script>{_JS}</script></body></html>
"""

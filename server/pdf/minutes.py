"""The minutes as a PDF, laid out like a Vietnamese administrative record.

Decree 30/2020/ND-CP layout: the body and the record number top left, the
national motto top right (the second line underlined), place and date, the
centred title, the body of the record, and the signature blocks (secretary
left, chair right). The text is set by a PyMuPDF Story in Noto Serif, embedded
and subset, so Vietnamese survives extraction exactly. The rectangles of the
two signature blocks are returned so the signing step can create its fields
there.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from html import escape

import pymupdf

from server.pdf.fonts_minutes import font_dir, font_face_css, font_path
from server.pdf.minutes_labels import clock, duration, labels, local, place_and_date

PAGE = pymupdf.paper_rect("a4")
# Decree 30: margins top 20-25 mm, bottom 20-25 mm, left 30-35 mm, right 15-20 mm.
BODY = PAGE + (85, 62, -57, -62)
SIGNATURE_WIDTH = 190  # points; the stamp box inside each signature block

CSS = """
* {font-family: Minutes; font-size: 13pt; line-height: 1.25;}
p {margin: 0 0 4pt 0; text-align: justify;}
.center {text-align: center;} .right {text-align: right;}
.small {font-size: 10pt;} .hash {font-size: 8.5pt;}
h1 {font-size: 14pt; font-weight: bold; text-align: center; margin: 10pt 0 0 0;}
h2 {font-size: 13pt; font-weight: bold; margin: 10pt 0 4pt 0;}
h3 {font-size: 13pt; font-weight: bold; margin: 8pt 0 2pt 0;}
td, th {vertical-align: top; padding: 1pt 3pt;}
table.result {margin: 2pt 0 4pt 20pt;} table.result td, table.result th {font-size: 11.5pt;}
u {text-decoration: underline;}
table.head, table.sign {width: 100%;} table.sign td {width: 50%;}
/* MuPDF lays tables out by content unless widths are absolute: 453 pt of body width. */
body {margin: 0;} table.head {border-spacing: 0;}
table.head td.left {width: 170pt; padding: 0;} table.head td.right-col {width: 283pt; padding: 0;}
.head {font-size: 12pt;}
"""


@dataclass
class RenderedMinutes:
    pdf: bytes
    # role -> (0-based page, (x0, y0, x1, y1) in PDF user space, origin bottom-left)
    signature_boxes: dict[str, tuple[int, tuple[float, float, float, float]]]


def _e(value) -> str:
    return escape(str(value or ""))


def _header(s: dict, lang: str, L: dict) -> str:
    m = s["meeting"]
    when = local(m.get("opened_at") or m.get("starts_at"), m["timezone"])
    # An unnumbered record leaves the number blank for the clerk, as on paper.
    reference = _e(m["reference"]) if m.get("reference") else "&nbsp;" * 8 + "/BB"
    locality = m.get("locality") or m.get("place") or ""
    return f"""
<table class="head"><tr>
<td class="center head left"><b>{_e(m['body']).upper()}</b><br>{L['number']} {reference}</td>
<td class="center head right-col"><b>{L['motto1']}</b><br><b><u>{L['motto2']}</u></b></td>
</tr></table>
<p class="right"><i>{_e(place_and_date(locality, when, lang))}</i></p>
<h1>{L['title']}</h1><p class="center"><b>{_e(m['title'])}</b></p>"""


def _names(people: list[dict], L: dict) -> str:
    return "; ".join(
        _e(p["name"]) + (f" ({_e(p['position'])})" if p.get("position") else "")
        + (f" - {_e(p['excuse'])}" if p.get("excuse") else "")
        for p in people) or "0"


def _general(s: dict, lang: str, L: dict) -> str:
    m, a = s["meeting"], s["attendance"]
    tz = m["timezone"]
    opened, closed = local(m.get("opened_at"), tz), local(m.get("closed_at"), tz)
    quorum = L["quorum_ok"] if a["quorum_reached"] else L["quorum_no"]
    weights = ""
    if a.get("members_weight") not in (None, str(a["members"])):
        weights = f" ({L['weight']} {a['present_weight']}/{a['members_weight']})"
    return f"""<h2>{L['s_general']}</h2>
<p>- {L['time']}: {L['opened']} {clock(opened, lang)}; {L['closed']} {clock(closed, lang)}.</p>
<p>- {L['place']}: {_e(m.get('place'))}.</p>
<p>- {L['chair']}: {_e(s.get('chair'))}. {L['secretary']}: {_e(s.get('secretary'))}.</p>
<p>- {L['present']} ({len(a['present'])}): {_names(a['present'], L)}.</p>
<p>- {L['excused']} ({len(a['excused'])}): {_names(a['excused'], L)}.</p>
<p>- {L['absent']} ({len(a['absent'])}): {_names(a['absent'], L)}.</p>
<p>- {L['quorum']}: {a['present_members']}/{a['members']}{weights}, {quorum}.</p>"""


def _poll(poll: dict, L: dict) -> str:
    kind = L["secret"] if poll["kind"] == "secret" else L["named"]
    def figure(value) -> str:
        return _e("-" if value is None else value)

    rows = "".join(
        f"<tr><td>{_e(o['label'])}</td><td class='right'>{figure(o['count'])}</td>"
        f"<td class='right'>{figure(o['weight'])}</td></tr>" for o in poll["options"])
    if poll["status"] == "cancelled":
        outcome = L["cancelled"]
    elif poll.get("outcome") in ("no_quorum", "tie"):
        outcome = L[poll["outcome"]]
    elif poll["passed"] is None:
        outcome = ""
    else:
        outcome = L["passed"] if poll["passed"] else L["failed"]
    labels_by_key = {o["key"]: o["label"] for o in poll["options"]}
    elected = ", ".join(_e(labels_by_key.get(k, k)) for k in poll.get("elected") or [])
    parts = [f"<p><b>{L['poll']}</b> ({kind}): {_e(poll['motion'])}</p>",
             f"<table class='result'><tr><th>{L['option']}</th><th>{L['count']}</th>"
             f"<th>{L['weight']}</th></tr>{rows}</table>"]
    if poll.get("cast") is not None:
        parts.append(f"<p>{L['cast']}: {_e(poll['cast'])}.</p>")
    if elected:
        parts.append(f"<p>{L['elected']}: {elected}.</p>")
    if outcome:
        parts.append(f"<p><b>{outcome}</b></p>")
    if poll.get("decision"):
        parts.append(f"<p>{_e(poll['decision'])}</p>")
    if poll.get("ballot_digest"):
        parts.append(f"<p class='small'>{L['ballot_digest']}: "
                     f"<span class='hash'>{_e(poll['ballot_digest'])}</span></p>")
    return "".join(parts)


def _speaker(speech: dict, tz: str) -> str:
    """"+ Name, position (08:40, 3:20)": when they began, how long they spoke."""
    who = _e(speech["name"]) + (f", {_e(speech['position'])}" if speech.get("position") else "")
    started = local(speech.get("started_at"), tz)
    when = [started.strftime("%H:%M")] if started else []
    if speech.get("seconds") is not None:
        when.append(duration(speech["seconds"]))
    return f"<p>+ {who}{' (' + ', '.join(when) + ')' if when else ''}</p>"


def _comment_period(summary: dict | None, L: dict) -> str:
    """"Comments: 5 (4 points; accepted 2, explained 1, not accepted 1)"."""
    if not summary:
        return ""
    return (f"<br>{L['comments']}: {summary['comments']} ({summary['points']} {L['points']}; "
            f"{L['accepted']} {summary['accepted']}, {L['explained']} {summary['explained']}, "
            f"{L['not_accepted']} {summary['not_accepted']})")


def _amendment(a: dict, L: dict) -> str:
    outcome = L["outcomes"].get(a["outcome"] or a["status"], "")
    reason = f" ({_e(a['decision_reason'])})" if a["decision_reason"] else ""
    movers = ", ".join(_e(n) for n in [a["tabled_by"], *a["cosigner_names"]] if n)
    change = (f"{L['replaces']} «{_e(a['old_text'])}» {L['by_text']} «{_e(a['new_text'])}»"
              if a["new_text"] else f"{L['deletes']} «{_e(a['old_text'])}»")
    return (f"<p>- {L['amendment']} {a['number']} ({L['lines_word']} {a['line_from']}–"
            f"{a['line_to']}, {L['moved_by']} {movers}): {change}; {L['reasons']}: "
            f"{_e(a['reasons'])}. <b>{outcome}</b>{reason}</p>")


def _draft_text(d: dict, L: dict) -> str:
    """A draft entered as text: each amendment and its outcome, then the text as adopted."""
    amendments = "".join(_amendment(a, L) for a in d["amendments"])
    adopted = ""
    if d["outcome"] == "adopted":
        adopted = (f"<p><i>{L['adopted_text']}:</i></p>"
                   f"{_paragraphs(d['adopted_text'])}")
    return (f"<p><i>{L['draft_text']} «{_e(d['title'])}» ({d['lines']} {L['lines_word']}): "
            f"{L['outcomes'].get(d['outcome'], '')}</i></p>{amendments}{adopted}")


def _record(block: dict, lang: str, tz: str, L: dict) -> str:
    """Documents, speakers, polls of one agenda item (or of the general business)."""
    parts = []
    if block.get("documents"):
        docs = "".join(
            f"<p>+ {_e(d['title'])} ({L['version']} {d['version']}, {d.get('pages') or 0} "
            f"{L['pages']})<br><span class='hash'>sha256 {_e(d['sha256'])}</span>"
            f"{_comment_period(d.get('comment_period'), L)}</p>"
            for d in block["documents"])
        parts.append(f"<p><i>{L['documents']}:</i></p>{docs}")
    if block.get("speakers"):
        speakers = "".join(_speaker(sp, tz) for sp in block["speakers"])
        parts.append(f"<p><i>{L['speakers']}:</i></p>{speakers}")
    parts.extend(_poll(poll, L) for poll in block.get("polls", []))
    parts.extend(_draft_text(d, L) for d in block.get("draft_texts", []))
    return "".join(parts)


def _content(s: dict, free_text: str, lang: str, L: dict) -> str:
    tz = s["meeting"]["timezone"]
    parts = [f"<h2>{L['s_content']}</h2>"]
    if s.get("opening"):
        parts.append(_paragraphs(s["opening"]))
    for item in s["items"]:
        indent = 14 * item.get("level", 0)
        parts.append(f"<h3 style='margin-left: {indent}pt'>"
                     f"{_e(item['number'])}. {_e(item['title'])}</h3>")
        if item.get("presenter"):
            parts.append(f"<p>{L['presenter']}: {_e(item['presenter'])}</p>")
        parts.append(_record(item, lang, tz, L))
        if item.get("decision"):
            parts.append(f"<p><b>{L['decision']}:</b> {_e(item['decision'])}</p>")
        if item.get("notes"):
            parts.append(_paragraphs(item["notes"]))
    general = s.get("general") or {}
    if any(general.get(k) for k in ("documents", "speakers", "polls")):
        parts.append(f"<h3>{L['general']}</h3>" + _record(general, lang, tz, L))
    if free_text.strip():
        parts.append(f"<h3>{L['other']}</h3>" + _paragraphs(free_text))
    closed = local(s["meeting"].get("closed_at"), tz)
    parts.append(f"<h2>{L['s_end']}</h2><p>{L['adjourned']} {clock(closed, lang)}.</p>")
    if s.get("adjournment"):
        parts.append(_paragraphs(s["adjournment"]))
    return "".join(parts)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in text.splitlines() if line.strip())


def _signatures(s: dict, audit_head: str, L: dict) -> str:
    return f"""<p class="small">{L['audit']}<br><span class="hash">{_e(audit_head)}</span></p>
<table class="sign"><tr>
<td class="center"><b>{L['sign_secretary']}</b><br><i class="small">{L['sign_hint']}</i>
<div id="sig-secretary" style="height: 72pt"></div><b>{_e(s.get('secretary'))}</b></td>
<td class="center"><b>{L['sign_chair']}</b><br><i class="small">{L['sign_hint']}</i>
<div id="sig-chair" style="height: 72pt"></div><b>{_e(s.get('chair'))}</b></td>
</tr></table>"""


def minutes_html(sections: dict, free_text: str, language: str, audit_head: str) -> str:
    L = labels(language)
    return (_header(sections, language, L) + _general(sections, language, L)
            + _content(sections, free_text, language, L) + _signatures(sections, audit_head, L))


def lay_out(html: str, css: str) -> tuple[bytes, dict[str, tuple[int, tuple]]]:
    """Set ``html`` on A4 pages in Noto Serif; returns the PDF and the rectangles of the
    elements whose id is ``sig-<role>`` (signature blocks), by role, in PDF user space."""
    story = pymupdf.Story(html, user_css=font_face_css() + css,
                          archive=pymupdf.Archive(str(font_dir())))
    buffer = io.BytesIO()
    writer = pymupdf.DocumentWriter(buffer)
    boxes: dict[str, tuple[int, tuple]] = {}

    def _position(pos):
        if pos.id and pos.id.startswith("sig-") and pos.open_close & 1:
            x0, y0, x1, y1 = pos.rect
            middle, half = (x0 + x1) / 2, min(SIGNATURE_WIDTH, x1 - x0) / 2
            boxes[pos.id[4:]] = (pos.page_index, (middle - half, PAGE.height - y1,
                                                  middle + half, PAGE.height - y0))

    page_index, more = 0, True
    while more:
        device = writer.begin_page(PAGE)
        more, _ = story.place(BODY)
        story.element_positions(_position, {"page_index": page_index})
        story.draw(device)
        writer.end_page()
        page_index += 1
    writer.close()
    return buffer.getvalue(), boxes


def render_minutes(sections: dict, free_text: str, language: str, audit_head: str,
                   *, draft: bool = False) -> RenderedMinutes:
    """Lay the minutes out on A4 pages; ``draft`` marks every page as a preview."""
    pdf, boxes = lay_out(minutes_html(sections, free_text, language, audit_head), CSS)
    return RenderedMinutes(_finish(pdf, sections, language, audit_head, draft), boxes)


def _finish(pdf: bytes, sections: dict, language: str, audit_head: str, draft: bool) -> bytes:
    """Page numbers, metadata, the draft mark; then subset the embedded fonts."""
    L = labels(language)
    doc = pymupdf.open("pdf", pdf)
    for page in doc:
        text = f"{L['page']} {page.number + 1}/{doc.page_count}"
        page.insert_text((PAGE.width / 2 - 20, PAGE.height - 30), text, fontsize=9,
                         fontname="MinutesPage", fontfile=font_path())
        if draft:
            page.insert_text((BODY.x0, 36), "DRAFT / DỰ THẢO", fontsize=11, color=(0.8, 0, 0),
                             fontname="MinutesDraft", fontfile=font_path("bold"))
    m = sections["meeting"]
    doc.set_metadata({"title": f"{L['title']} - {m['title']}", "author": m["body"],
                      "subject": m.get("reference") or "", "creator": "Hemicycle",
                      "producer": "Hemicycle (PyMuPDF)", "keywords": f"audit-head:{audit_head}"})
    doc.subset_fonts()
    return doc.tobytes(garbage=3, deflate=True)

"""The nested agenda: add, edit, delete, move and reorder items; numbers are derived.

Items are ordered by ``position`` among their siblings; positions are kept
dense (0, 1, 2 …) after every change, and the displayed number ("2.1") is
computed from them, never stored. Once the meeting is published every change
is also published as an ``agenda.changed`` event carrying the whole tree, so a
tablet replaces its agenda in one step.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import select

from server.errors import InvalidInput, NotFound
from server.extensions import db
from server.models import AgendaItem, Meeting, MeetingStatus, Participant
from server.schemas.meetings import (
    MAX_AGENDA_DEPTH, AgendaItemCreate, AgendaItemOut, AgendaItemUpdate, AgendaMove, AgendaNode,
    AgendaOrder, AgendaOut,
)
from server.services import audit, events
from server.services.actors import Actor
from server.services.meetings.meetings import meeting_to_prepare


Node = TypeVar("Node")


def _items(meeting_id: int) -> list[AgendaItem]:
    return list(db.session.scalars(
        select(AgendaItem).where(AgendaItem.meeting_id == meeting_id)
        .order_by(AgendaItem.position, AgendaItem.id)))


def _children_map(items: list[AgendaItem]) -> dict[int | None, list[AgendaItem]]:
    children: dict[int | None, list[AgendaItem]] = defaultdict(list)
    for item in items:
        children[item.parent_id].append(item)
    return children


def build_tree(meeting_id: int,
               make_node: Callable[[AgendaItem, str, int, list[Node]], Node]) -> list[Node]:
    """The meeting's items nested in reading order, each numbered ("1", "2", "2.1") from its
    position among its siblings.

    ``make_node(item, number, depth, children)`` turns one item, whose children are already
    built, into a node; the prep pages, the API and the live snapshot each make their own.
    """
    children = _children_map(_items(meeting_id))

    def build(parent_id: int | None, prefix: str, depth: int) -> list[Node]:
        nodes = []
        for index, item in enumerate(children.get(parent_id, []), start=1):
            number = f"{prefix}{index}"
            nodes.append(make_node(item, number, depth, build(item.id, number + ".", depth + 1)))
        return nodes

    return build(None, "", 1)


def agenda_tree(meeting: Meeting) -> AgendaOut:
    """The agenda as a tree with derived numbers ("1", "2", "2.1") and total planned time."""
    names = dict(db.session.execute(
        select(Participant.id, Participant.full_name).where(Participant.meeting_id == meeting.id)
    ).all())

    def node(item: AgendaItem, number: str, depth: int,
             children: list[AgendaItemOut]) -> AgendaItemOut:
        return AgendaItemOut(
            id=item.id, parent_id=item.parent_id, position=item.position, number=number,
            depth=depth, title=item.title, description=item.description,
            presenter=item.presenter, presenter_participant_id=item.presenter_participant_id,
            presenter_name=names.get(item.presenter_participant_id) or item.presenter,
            planned_minutes=item.planned_minutes, children=children)

    items = build_tree(meeting.id, node)
    # Leaves only: a parent's planned time is the sum of its children's.
    total = sum(n.planned_minutes or 0 for n in flatten(items) if not n.children)
    return AgendaOut(meeting_id=meeting.id, revision=meeting.revision, total_minutes=total,
                     items=items)


def flatten(nodes: list[AgendaItemOut]) -> list[AgendaItemOut]:
    """Depth-first list of a tree, the order the agenda is read in."""
    flat: list[AgendaItemOut] = []
    for node in nodes:
        flat.append(node)
        flat.extend(flatten(node.children))
    return flat


def _depth(item: AgendaItem | None, by_id: dict[int, AgendaItem]) -> int:
    depth = 0
    while item is not None:
        depth += 1
        item = by_id.get(item.parent_id) if item.parent_id else None
    return depth


def _height(item: AgendaItem, children: dict[int | None, list[AgendaItem]]) -> int:
    return 1 + max((_height(c, children) for c in children.get(item.id, [])), default=0)


def _renumber(siblings: list[AgendaItem]) -> None:
    for index, item in enumerate(siblings):
        item.position = index


def _item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.meeting_id != meeting.id:
        raise NotFound(_("No such agenda item in this meeting."))
    return item


def _parent(meeting: Meeting, parent_id: int | None) -> AgendaItem | None:
    if parent_id is None:
        return None
    parent = db.session.get(AgendaItem, parent_id)
    if parent is None or parent.meeting_id != meeting.id:
        raise InvalidInput(_("No such agenda item in this meeting."),
                           fields={"parent_id": _("No such agenda item in this meeting.")})
    return parent


def _check_presenter(meeting: Meeting, participant_id: int | None) -> None:
    if participant_id is None:
        return
    participant = db.session.get(Participant, participant_id)
    if participant is None or participant.meeting_id != meeting.id:
        raise InvalidInput(_("The presenter must be a participant of this meeting."),
                           fields={"presenter_participant_id":
                                   _("No such participant in this meeting.")})


def _changed(meeting: Meeting, actor: Actor, action: str, item_id, payload: dict) -> None:
    audit.record(action, "agenda_item", item_id, actor=actor, meeting_id=meeting.id,
                 payload=payload)
    if meeting.status != MeetingStatus.DRAFT:
        db.session.flush()
        events.publish(meeting.id, "agenda.changed",
                       agenda_tree(meeting).model_dump(mode="json", exclude={"revision"}))
        db.session.refresh(meeting)


def add_item(meeting_id: int, actor: Actor | None, data: AgendaItemCreate) -> AgendaItem:
    """Add an item under ``parent_id`` at ``position`` (appended when none), at most 3 deep."""
    meeting = meeting_to_prepare(meeting_id, actor, "agenda.item_add")
    items = _items(meeting.id)
    by_id = {i.id: i for i in items}
    parent = _parent(meeting, data.parent_id)
    if _depth(parent, by_id) + 1 > MAX_AGENDA_DEPTH:
        raise InvalidInput(_("The agenda is nested too deeply."), fields={
            "parent_id": _("Items can be nested at most %(n)d levels deep.", n=MAX_AGENDA_DEPTH)})
    _check_presenter(meeting, data.presenter_participant_id)
    siblings = _children_map(items).get(data.parent_id, [])
    item = AgendaItem(
        meeting_id=meeting.id, parent_id=data.parent_id, title=data.title,
        description=data.description or "", presenter=data.presenter or "",
        presenter_participant_id=data.presenter_participant_id,
        planned_minutes=data.planned_minutes, position=len(siblings))
    db.session.add(item)
    position = len(siblings) if data.position is None else min(data.position, len(siblings))
    siblings.insert(position, item)
    _renumber(siblings)
    db.session.flush()
    _changed(meeting, actor, "agenda.item_added", item.id,
             data.model_dump(mode="json", exclude_none=True))
    return item


def update_item(meeting_id: int, item_id: int, actor: Actor | None,
                data: AgendaItemUpdate) -> AgendaItem:
    """Change the fields the client sent; ``null`` clears the presenter or planned time."""
    meeting = meeting_to_prepare(meeting_id, actor, "agenda.item_update")
    item = _item(meeting, item_id)
    changes = {name: getattr(data, name) for name in data.model_fields_set}
    if "title" in changes and changes["title"] is None:
        raise InvalidInput(_("The title cannot be empty."), fields={"title": _("This field is required.")})
    for name in ("description", "presenter"):
        if name in changes and changes[name] is None:
            changes[name] = ""
    _check_presenter(meeting, changes.get("presenter_participant_id"))
    changed = {k: v for k, v in changes.items() if getattr(item, k) != v}
    for name, value in changed.items():
        setattr(item, name, value)
    if changed:
        db.session.flush()
        _changed(meeting, actor, "agenda.item_updated", item.id, {"changed": changed})
    return item


def delete_item(meeting_id: int, item_id: int, actor: Actor | None) -> None:
    """Delete the item and everything nested under it; siblings close the gap."""
    meeting = meeting_to_prepare(meeting_id, actor, "agenda.item_delete")
    item = _item(meeting, item_id)
    items = _items(meeting.id)
    children = _children_map(items)
    removed, stack = [], [item]
    while stack:
        current = stack.pop()
        removed.append(current.id)
        stack.extend(children.get(current.id, []))
    parent_id = item.parent_id
    db.session.delete(item)
    db.session.flush()
    _renumber([s for s in children.get(parent_id, []) if s.id != item.id])
    db.session.flush()
    _changed(meeting, actor, "agenda.item_deleted", item_id,
             {"title": item.title, "removed": sorted(removed)})


def move_item(meeting_id: int, item_id: int, actor: Actor | None, move: AgendaMove) -> AgendaItem:
    """Put the item (with its children) under ``parent_id`` at ``position``."""
    meeting = meeting_to_prepare(meeting_id, actor, "agenda.item_move")
    item = _item(meeting, item_id)
    items = _items(meeting.id)
    by_id = {i.id: i for i in items}
    children = _children_map(items)
    parent = _parent(meeting, move.parent_id)
    ancestor = parent
    while ancestor is not None:
        if ancestor.id == item.id:
            raise InvalidInput(_("An item cannot move under itself."),
                               fields={"parent_id": _("An item cannot move under itself.")})
        ancestor = by_id.get(ancestor.parent_id) if ancestor.parent_id else None
    if _depth(parent, by_id) + _height(item, children) > MAX_AGENDA_DEPTH:
        raise InvalidInput(_("The agenda would be nested too deeply."), fields={
            "parent_id": _("Items can be nested at most %(n)d levels deep.", n=MAX_AGENDA_DEPTH)})
    old = [s for s in children.get(item.parent_id, []) if s.id != item.id]
    _renumber(old)
    new = old if move.parent_id == item.parent_id else \
        [s for s in children.get(move.parent_id, []) if s.id != item.id]
    new.insert(min(move.position, len(new)), item)
    item.parent_id = move.parent_id
    _renumber(new)
    db.session.flush()
    _changed(meeting, actor, "agenda.item_moved", item.id, move.model_dump(mode="json"))
    return item


def reorder(meeting_id: int, actor: Actor | None, order: AgendaOrder) -> None:
    """Replace the whole ordering at once; the tree must name every item exactly once."""
    meeting = meeting_to_prepare(meeting_id, actor, "agenda.reorder")
    by_id = {i.id: i for i in _items(meeting.id)}
    seen: list[int] = []

    def place(nodes: list[AgendaNode], parent_id: int | None, depth: int) -> None:
        if depth > MAX_AGENDA_DEPTH and nodes:
            raise InvalidInput(_("The agenda would be nested too deeply."), fields={
                "items": _("Items can be nested at most %(n)d levels deep.", n=MAX_AGENDA_DEPTH)})
        for index, node in enumerate(nodes):
            if node.id not in by_id or node.id in seen:
                raise InvalidInput(_("Every agenda item must appear exactly once."),
                                   fields={"items": _("Item %(id)d is unknown or repeated.", id=node.id)})
            seen.append(node.id)
            by_id[node.id].parent_id, by_id[node.id].position = parent_id, index
            place(node.children, node.id, depth + 1)

    place(order.items, None, 1)
    if len(seen) != len(by_id):
        missing = sorted(set(by_id) - set(seen))
        raise InvalidInput(_("Every agenda item must appear exactly once."),
                           fields={"items": _("Items missing: %(ids)s", ids=missing)})
    db.session.flush()
    _changed(meeting, actor, "agenda.reordered", meeting.id, order.model_dump(mode="json"))

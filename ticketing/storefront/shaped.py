"""A page rendered by Django's template engine once per shape, each visitor's values filled in.

The waiting page is what a whole crowd reloads during an onsale, and most of it is the same
for every waiter of the onsale in one language and state: only the position, the estimate,
the countdown, the clock and the CSRF token differ. Rendering it through the template engine
took about half of the page's CPU (`make bench-waiting`).

`ShapedTemplate(name, slots)` renders the template through Django the first time a *shape* is
seen, with a random marker in place of each slot (a dotted path into the context: `status.position`),
keeps the text between the markers, and answers the next requests of that shape by joining
the pieces with their own slot values, escaped and localized as the engine outputs `{{ value }}`
(`render_value_in_context`, the engine's own function). The template stays the one source of
the HTML.

The shape is worked out, not declared: the language, every context value that is not a slot
(so a staff change to the onsale, another state or another refresh interval is another shape),
and the truthiness of each slot (a falsy slot is rendered as itself, so `{% if status.position %}`
and `|default:` behave as in a plain render). What a slot may be used for in the template:
output (`{{ slot }}`, `{% csrf_token %}` for the token), `{% if %}` on its truthiness, and filters
that leave a truthy string as it is (`default`, `default_if_none`); never a filter or comparison
that reads its value. Context processors run for the first request of a shape only: the template
must not show what they read from the request (the user, messages). Each shape is checked when
it is made: its first request is also rendered plainly (that is its answer), and if filling the
pieces does not give the same HTML, the error is logged and that shape is rendered in full from
then on (slower, never wrong). A shape is built once however many requests bring it at the
same moment, and past `MAX_SHAPES` the oldest shape is dropped, not all of them.
`tests/storefront/test_shaped.py` renders both ways.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading
from collections.abc import Hashable, Iterable

from django.http import HttpRequest
from django.template import Context
from django.template.base import render_value_in_context
from django.template.loader import render_to_string
from django.utils import translation

MAX_SHAPES = 2048  # per process (a few kB each); a new shape costs two plain renders
PLAIN = []  # a shape whose slots the template does not leave as they are: rendered in full
log = logging.getLogger(__name__)


def _get(context: dict, path: tuple[str, ...]):
    value = context
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def _with(context: dict, path: tuple[str, ...], value) -> dict:
    """A copy of `context` with `value` at `path` (the dicts along the path copied)."""
    head, *rest = path
    copy = dict(context)
    copy[head] = _with(context[head], tuple(rest), value) if rest else value
    return copy


def _fixed(context: dict, slots: frozenset[tuple[str, ...]], prefix=()) -> Iterable[Hashable]:
    """Every value of the context that is not a slot, with its path: the shape."""
    for name in sorted(context):
        path = (*prefix, name)
        if path in slots:
            continue
        value = context[name]
        if isinstance(value, dict):
            yield from _fixed(value, slots, path)
        else:
            hash(value)  # a value that cannot be part of a shape is a programming error
            yield path, value


class ShapedTemplate:
    def __init__(self, template_name: str, slots: Iterable[str]) -> None:
        self.template_name = template_name
        self.slots = tuple(tuple(slot.split(".")) for slot in slots)
        self._slot_set = frozenset(self.slots)
        self._marker = "mq" + secrets.token_hex(8)
        self._pattern = re.compile(re.escape(self._marker) + r"s([0-9]+)e")
        self._shapes: dict[Hashable, list] = {}
        self._lock = threading.Lock()
        self._output = Context(autoescape=True)

    def render(self, request: HttpRequest, context: dict) -> str:
        values = [_get(context, path) for path in self.slots]
        key = (
            translation.get_language(),
            # a falsy slot is rendered as itself: 0, None and "" are each their own shape
            tuple(True if value else value for value in values),
            tuple(_fixed(context, self._slot_set)),
        )
        pieces = self._shapes.get(key)
        if pieces is None:
            # One build per shape, even when a crowd arrives with it at once (the opening):
            # the others wait the few milliseconds and fill it.
            with self._lock:
                pieces = self._shapes.get(key)
                if pieces is None:
                    pieces, html = self._build(request, context, values)
                    while len(self._shapes) >= MAX_SHAPES:  # the oldest goes, not all of them
                        del self._shapes[next(iter(self._shapes))]
                    self._shapes[key] = pieces
                    return html
        if pieces is PLAIN:
            return render_to_string(self.template_name, context, request)
        return self._fill(pieces, values)

    def _fill(self, pieces: list, values: list) -> str:
        return "".join(
            render_value_in_context(values[piece], self._output)
            if isinstance(piece, int)
            else piece
            for piece in pieces
        )

    def _build(self, request: HttpRequest, context: dict, values: list) -> tuple[list, str]:
        """The shape's pieces, checked against a plain render of this request (which is its
        answer): a template that uses a slot other than as the rules say renders plainly."""
        marked = context
        for index, (path, value) in enumerate(zip(self.slots, values, strict=True)):
            if value:
                marked = _with(marked, path, f"{self._marker}s{index}e")
        parts = self._pattern.split(render_to_string(self.template_name, marked, request))
        pieces: list = [parts[0]]
        for index, text in zip(parts[1::2], parts[2::2], strict=True):
            pieces.extend((int(index), text))
        pieces = [piece for piece in pieces if piece != ""]
        html = render_to_string(self.template_name, context, request)
        if self._fill(pieces, values) != html:
            log.error(
                "%s: a slot is used other than as output or a truth test; this shape is "
                "rendered in full on every request",
                self.template_name,
            )
            return PLAIN, html
        return pieces, html

    def clear(self) -> None:
        with self._lock:
            self._shapes.clear()

"""One handler per outbox topic: a second one is refused when its module is imported, not
discovered later as messages delivered by the wrong code (or by nobody)."""

from __future__ import annotations

import importlib
import sys
import textwrap

import pytest
from django.core.exceptions import ImproperlyConfigured

from ticketing.outbox import topics
from ticketing.outbox.services import HANDLERS, handler

TOPIC = "test.one_handler"

HANDLER_MODULE = """
from ticketing.outbox.services import handler


@handler({topic!r})
def {name}(payload):
    return {name!r}
"""


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """Write small handler modules to import; forget them and their topic afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    def write(module: str, function: str = "deliver") -> str:
        source = HANDLER_MODULE.format(topic=TOPIC, name=function)
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        written.append(module)
        return module

    yield write
    HANDLERS.pop(TOPIC, None)
    for module in written:
        sys.modules.pop(module, None)


def test_a_second_handler_for_a_topic_fails_the_import_and_the_first_keeps_the_topic(modules):
    first = importlib.import_module(modules("outbox_handler_first"))

    with pytest.raises(ImproperlyConfigured) as refused:
        importlib.import_module(modules("outbox_handler_second", "deliver_too"))

    assert TOPIC in str(refused.value)
    assert "outbox_handler_first.deliver" in str(refused.value)
    assert "outbox_handler_second.deliver_too" in str(refused.value)
    assert HANDLERS[TOPIC] is first.deliver


def test_a_handler_whose_module_is_reloaded_replaces_itself(modules):
    module = importlib.import_module(modules("outbox_handler_reloaded"))
    before = module.deliver

    importlib.reload(module)

    assert module.deliver is not before
    assert HANDLERS[TOPIC] is module.deliver


def test_registering_the_same_function_twice_is_harmless():
    def deliver(payload):
        return None

    try:
        handler(TOPIC)(deliver)
        assert handler(TOPIC)(deliver) is deliver
        assert HANDLERS[TOPIC] is deliver
    finally:
        HANDLERS.pop(TOPIC, None)


def test_every_topic_has_its_handler_once_the_apps_are_loaded():
    named = {value for name, value in vars(topics).items() if name.endswith("_TOPIC")}

    assert "order.confirmation" in named
    assert named <= set(HANDLERS)

"""Seat layouts from a text grid: the parser, the renderer, and replacing an auditorium's seats."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests import factories
from ticketing.flows import demo
from ticketing.flows.layouts import layout_replace
from ticketing.inventory.models import Hold, SeatClaim
from ticketing.screenings import layouts
from ticketing.screenings.layouts import Layout, layout_render, parse, render
from ticketing.screenings.models import Seat


def seats_by_label(layout: Layout) -> dict[str, layouts.SeatSpec]:
    return {seat.label: seat for seat in layout.seats}


# ---- parsing -------------------------------------------------------------------------------
def test_rows_are_lettered_from_the_front_and_seats_numbered_left_to_right_skipping_gaps():
    layout = parse("sss..ss\n ssss\n")
    seats = seats_by_label(layout)

    assert sorted(seats) == ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4"]
    assert (seats["A3"].x, seats["A3"].y) == (2, 0)
    assert (seats["A4"].x, seats["A4"].y) == (5, 0)  # after the two-cell aisle
    assert (seats["B1"].x, seats["B1"].y) == (1, 1)  # a leading space is a gap
    assert all(s.seat_type == "standard" and s.is_sellable for s in layout.seats)


def test_seat_types_and_blocked_seats():
    seats = seats_by_label(parse("spwcxPWC"))

    assert [(seats[f"A{n}"].seat_type, seats[f"A{n}"].is_sellable) for n in range(1, 9)] == [
        ("standard", True),
        ("premium", True),
        ("wheelchair", True),
        ("companion", True),
        ("standard", False),
        ("premium", False),
        ("wheelchair", False),
        ("companion", False),
    ]


def test_couple_seats_are_two_halves_paired_with_each_other():
    seats = seats_by_label(parse("<>.<>[]"))

    assert seats["A1"].pair == ("A", 2) and seats["A2"].pair == ("A", 1)
    assert seats["A3"].pair == ("A", 4) and seats["A4"].pair == ("A", 3)
    assert {seats[f"A{n}"].seat_type for n in range(1, 7)} == {"couple"}
    assert not seats["A5"].is_sellable and not seats["A6"].is_sellable
    assert seats["A5"].pair == ("A", 6)


@pytest.mark.parametrize("text", ["<s", "s>", "<.>", "<<>", "<"])
def test_a_couple_half_without_its_other_half_is_refused(text):
    with pytest.raises(ValidationError, match="couple seat"):
        parse(text)


def test_walkways_take_a_line_but_no_letter_and_blank_edges_are_ignored():
    layout = parse("\n\nsss\n...\n\nsss\n\n")
    seats = seats_by_label(layout)

    assert seats["A1"].y == 0
    assert seats["B1"].y == 3  # two walkway lines between A and B
    assert {s.row_label for s in layout.seats} == {"A", "B"}


def test_row_labels_given_explicitly():
    layout = parse("AA: ss.s\nBB:sss\nsss")
    seats = seats_by_label(layout)

    assert {s.row_label for s in layout.seats} == {"AA", "BB", "C"}
    assert (seats["AA3"].x, seats["AA3"].number) == (3, 3)  # one space after the colon is free
    assert seats["BB1"].x == 0
    assert seats["C1"].y == 2


def test_a_row_label_used_twice_is_refused():
    with pytest.raises(ValidationError, match="already used on line 1"):
        parse("A: sss\nsss\nA: sss")


def test_mistakes_are_reported_with_line_and_column():
    with pytest.raises(ValidationError) as exc:
        parse("sss\nsqs\nss\tss")

    assert exc.value.messages[0].startswith("Line 2, column 2: 'q' is not a seat")
    assert exc.value.messages[1].startswith("Line 3, column 3: a tab")


def test_row_letters_go_on_past_z():
    assert [layouts.row_letters(i) for i in (0, 25, 26, 27, 52)] == ["A", "Z", "AA", "AB", "BA"]


# ---- rendering -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "wc..ssss\nsssss.ssss\n.\npppp..pp\n<><>.[]xPWC",
        "  ss\nsss",
        "B: sss\nA: s<>",
        "AA: ss\n B: ss",
        demo.LARGE_LAYOUT,
        demo.SMALL_LAYOUT,
    ],
)
def test_render_reads_back_as_the_same_layout(text):
    layout = parse(text)

    assert parse(render(layout)) == layout
    assert layouts.is_exact(layout)


def test_render_of_a_plain_layout_is_the_text_itself():
    assert render(parse(demo.LARGE_LAYOUT)) == demo.LARGE_LAYOUT.strip("\n")


# ---- the database --------------------------------------------------------------------------
@pytest.mark.django_db
def test_layout_replace_builds_the_seats_with_their_pairs(cinema):
    room = factories.layout_room(cinema, "wc.sss\n<>.<>")

    seats = {s.label: s for s in room.seats.all()}
    assert len(seats) == 9
    assert (seats["A1"].seat_type, seats["A2"].seat_type) == ("wheelchair", "companion")
    assert seats["B1"].pair_id == seats["B2"].pk and seats["B2"].pair_id == seats["B1"].pk
    assert seats["B3"].pair_id == seats["B4"].pk
    assert layout_render(room) == "wc.sss\n<>.<>"


@pytest.mark.django_db
def test_replacing_with_the_same_text_changes_nothing(cinema):
    room = factories.layout_room(cinema, demo.SMALL_LAYOUT)
    ids = set(room.seats.values_list("id", flat=True))

    change = layout_replace(auditorium=room, text=layout_render(room))

    assert not change.changed
    assert set(room.seats.values_list("id", flat=True)) == ids


@pytest.mark.django_db
def test_seats_that_keep_their_label_keep_their_id_when_they_move(cinema):
    room = factories.layout_room(cinema, "ssss\nssss")
    before = {s.label: s.pk for s in room.seats.all()}

    # An aisle in the middle and every seat one step right: positions swap within the row.
    change = layout_replace(auditorium=room, text=".ss.ss\n.ssss")

    after = {s.label: s for s in room.seats.all()}
    assert {label: s.pk for label, s in after.items()} == before
    assert [after[f"A{n}"].x for n in range(1, 5)] == [1, 2, 4, 5]
    assert (change.created, change.updated, change.deleted) == (0, 8, 0)


@pytest.mark.django_db
def test_a_layout_can_add_remove_and_retype_seats(cinema):
    room = factories.layout_room(cinema, "ssss\nssss\n<>")

    change = layout_replace(auditorium=room, text="ssxss\npp\n<><>")

    assert (change.created, change.deleted) == (3, 2)
    seats = {s.label: s for s in room.seats.all()}
    assert sorted(seats) == ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "C1", "C2", "C3", "C4"]
    assert not seats["A3"].is_sellable
    assert seats["B1"].seat_type == "premium"
    assert seats["C3"].pair_id == seats["C4"].pk and seats["C4"].pair_id == seats["C3"].pk
    assert seats["C1"].pair_id == seats["C2"].pk


@pytest.mark.django_db
def test_refuses_to_remove_a_seat_that_has_tickets(auditorium):
    screening = factories.screening(auditorium)
    factories.pending_order(screening, "A10")
    before = set(auditorium.seats.values_list("id", "x", "y"))

    with pytest.raises(ValidationError, match="A10") as exc:
        layout_replace(auditorium=auditorium, text="\n".join(["sssssssss"] * 5))

    assert "never deleted" in exc.value.messages[0]
    assert set(auditorium.seats.values_list("id", "x", "y")) == before


@pytest.mark.django_db
def test_refuses_to_remove_a_seat_with_a_ticket_even_once_the_order_is_over(auditorium):
    from ticketing.orders.services import order_cancel

    screening = factories.screening(auditorium)
    order = factories.pending_order(screening, "E1")
    order_cancel(order_id=order.pk, actor="test")

    with pytest.raises(ValidationError, match="E1"):
        layout_replace(auditorium=auditorium, text="\n".join(["ssssssssss"] * 4))


@pytest.mark.django_db
def test_a_seat_sold_for_a_screening_to_come_is_neither_blocked_nor_moved(auditorium):
    # The rule of issue 11 (tests/flows/test_layout_rules.py has the rest): a seat in use keeps
    # its place, label, type and sellability until its screening is over.
    screening = factories.screening(auditorium)
    factories.pending_order(screening, "A10")
    seat_id = factories.seats(auditorium, "A10")[0]

    with pytest.raises(ValidationError, match="A10"):
        layout_replace(auditorium=auditorium, text="sssssssss.x\n" + "\n".join(["ssssssssss"] * 4))

    seat = Seat.objects.get(pk=seat_id)
    assert (seat.label, seat.x, seat.is_sellable) == ("A10", 9, True)


@pytest.mark.django_db
def test_refuses_to_remove_a_held_seat(auditorium):
    screening = factories.screening(auditorium)
    factories.held(screening, "C5")

    with pytest.raises(ValidationError, match="C5"):
        layout_replace(auditorium=auditorium, text="ssss")


@pytest.mark.django_db
def test_a_dead_hold_does_not_stop_a_seat_being_removed(auditorium):
    screening = factories.screening(auditorium)
    hold = factories.held(screening, "C5")
    past = timezone.now() - timedelta(minutes=1)
    Hold.objects.filter(pk=hold.pk).update(expires_at=past)
    SeatClaim.objects.filter(hold_id=hold.pk).update(expires_at=past)

    layout_replace(auditorium=auditorium, text="ssss")

    assert auditorium.seats.count() == 4
    assert not SeatClaim.objects.filter(hold_id=hold.pk).exists()


@pytest.mark.django_db
def test_an_empty_layout_is_refused(auditorium):
    with pytest.raises(ValidationError, match="at least one seat"):
        layout_replace(auditorium=auditorium, text=" \n.\n")
    assert auditorium.seats.count() == 50

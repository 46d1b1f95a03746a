"""From chosen seats to paid tickets: hold, checkout, payment, confirmation.

Every change goes through the services (holds, orders, payments), with the browser identified by
its buyer token (`ticketing.buyers`). A refresh or a second click never books twice: a hold is
replaced, not added to; an order is made once per hold; a payment is started only for a
pending order.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django import forms
from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from payments import services as payments
from payments.models import PaymentStatus
from promotions import offers
from ticketing import buyers, errors
from ticketing.client_ip import client_address
from ticketing.flows import checkout as checkout_flow
from ticketing.inventory import holds
from ticketing.inventory.models import Hold, HoldStatus
from ticketing.onsale.tokens import waiter_of
from ticketing.orders import pricing
from ticketing.orders import tickets as eticket
from ticketing.orders.models import Order, OrderStatus
from ticketing.orders.views import order_for_token, ticket_rows
from ticketing.screenings import selectors as catalogue
from ticketing.screenings.models import Seat

from . import messages, onsale_gate, presale, selectors
from .throttle import throttled
from .views import price_config, screening_context

log = logging.getLogger(__name__)
# The confirmation page looks again every 2 s while the provider's word is on its way; after this
# many looks it stops and offers to pay again (a second success would be refunded by itself).
CONFIRM_REFRESHES = 20
TYPES_SESSION = "marquee_ticket_types"  # {hold id: {seat id: ticket type id}} chosen on the map


def _int_list(values: list[str]) -> list[int] | None:
    try:
        return [int(v) for v in values]
    except (TypeError, ValueError):
        return None


def _int(value, default: int | None = None) -> int | None:
    return (_int_list([value]) or [default])[0]


def _remember_types(request: HttpRequest, hold: Hold) -> None:
    chosen = {}
    for seat_id in hold.seat_ids:
        type_id = _int(request.POST.get(f"type_{seat_id}"))
        if type_id is not None:  # anything else: the checkout page asks again
            chosen[str(seat_id)] = type_id
    stored = request.session.get(TYPES_SESSION, {})
    stored = dict(list(stored.items())[-9:])  # a few recent holds are plenty
    stored[str(hold.pk)] = chosen
    request.session[TYPES_SESSION] = stored


# ---- hold ------------------------------------------------------------------------------------
@require_POST
@throttled
@onsale_gate.guarded
def hold_seats(request: HttpRequest, pk: int) -> HttpResponse:
    """Hold the seats ticked on the map, or the best N together. Choosing again replaces the
    buyer's earlier live hold on the same screening (kept if the new seats cannot be had)."""
    screening = catalogue.screening_get(screening_id=pk)
    if screening is None:
        raise Http404("No such screening.")
    key = buyers.browser_key(request)
    best = "quantity" in request.POST and request.POST.get("mode") == "best"
    seat_ids = None if best else _int_list(request.POST.getlist("seat"))
    quantity = _int(request.POST.get("quantity"), 0) if best else None
    selected = set(seat_ids or [])

    def again(message: str, status: int, taken=()):
        context = screening_context(
            request,
            screening,
            error=message,
            selected=selected - set(taken),
            taken=set(taken),
            # This page answers a POST: links that come back here go to the map.
            page_url=reverse("storefront:screening", args=[screening.pk]),
        )
        return render(request, "storefront/screening.html", context, status=status)

    if seat_ids is None and not best:
        return again(str(messages.PLAIN["invalid"]), 400)
    try:
        hold = checkout_flow.hold_place(
            replace=True,
            waiter_id=waiter_of(request) or "",
            user=request.user,
            screening_id=screening.pk,
            seat_ids=seat_ids,
            quantity=quantity,
            buyer_key=key,
            client_ip=client_address(request),
            opens_at=presale.opening_for(request, screening),
        )
    except errors.SeatUnavailable as exc:
        taken = exc.details.get("seats") or []
        names = [seat.label for seat in Seat.objects.filter(pk__in=taken).order_by("y", "x")]
        log.info("storefront hold refused on screening %s: taken %s", screening.pk, names)
        text = messages.seats_taken(names) if names else messages.explain(exc)
        return again(text, 409, taken)
    except errors.InvalidRequest as exc:
        return again(messages.explain(exc), 400)
    except errors.DomainError as exc:  # no seats together, not on sale, ...
        return again(messages.explain(exc), 409)
    _remember_types(request, hold)
    return redirect("storefront:checkout", hold_id=hold.pk)


# ---- checkout --------------------------------------------------------------------------------
class CheckoutForm(forms.Form):
    name = forms.CharField(label=_("Full name"), max_length=120)
    email = forms.EmailField(label=_("Email"), help_text=_("Your tickets are sent here."))
    promo_code = forms.CharField(
        label=_("Promo code"),
        max_length=60,
        required=False,
        help_text=_("Optional. Capitals, spaces and dashes do not matter."),
    )

    def __init__(self, *args, seats: list[Seat], ticket_types: list[dict], initial_types, **kw):
        super().__init__(*args, **kw)
        choices = [(str(t["id"]), t["name"]) for t in ticket_types]
        self.seats = seats
        for seat in seats:
            self.fields[f"type_{seat.pk}"] = forms.TypedChoiceField(
                label=seat.label,
                choices=choices,
                coerce=int,
                initial=str(initial_types.get(str(seat.pk), choices[0][0] if choices else "")),
            )

    def type_fields(self):
        return [(seat, self[f"type_{seat.pk}"]) for seat in self.seats]

    def tickets(self) -> list[tuple[int, int]]:
        return [(seat.pk, self.cleaned_data[f"type_{seat.pk}"]) for seat in self.seats]


def _owned_hold(request: HttpRequest, hold_id) -> Hold:
    try:
        return holds.hold_get(hold_id=hold_id, buyer_key=buyers.browser_key(request))
    except errors.HoldNotFound:
        raise Http404("No such hold.") from None


def _expired(request: HttpRequest, hold: Hold) -> HttpResponse:
    context = {"screening": hold.screening, "film": hold.screening.film}
    return render(request, "storefront/hold_expired.html", context, status=410)


def _done_url(order: Order) -> str:
    return reverse("storefront:done", args=[eticket.order_token(order)])


def _with_promo(text: str, screening, quote: pricing.Quote) -> tuple[str, pricing.Quote]:
    """The code as stored and the quote with its discounts, as the order would get them: a
    preview, nothing counted (uses and budget are checked when the order is placed)."""
    code = offers.code_find(text)
    offer = offers.offer_for(code, screening, quote)
    return code.code, pricing.with_discounts(quote, offer.discounts)


def _applying(request: HttpRequest) -> bool:
    """*Apply* pressed with a code typed: show the discount, place nothing. (Pressed with the
    field empty, or Enter in another field, it continues as the form's main button would.)"""
    return (
        request.method == "POST"
        and bool(request.POST.get("apply_promo"))
        and bool((request.POST.get("promo_code") or "").strip())
    )


@require_http_methods(["GET", "POST"])
@throttled
def checkout(request: HttpRequest, hold_id) -> HttpResponse:
    hold = _owned_hold(request, hold_id)
    if hold.status == HoldStatus.ORDERED:
        order = Order.objects.filter(hold=hold).first()
        if order is not None:
            return redirect(_done_url(order))
    if (gate := onsale_gate.refusal(request, hold.screening_id, since=hold.created_at)) is not None:
        return gate
    if hold.status != HoldStatus.ACTIVE or hold.expires_at <= timezone.now():
        return _expired(request, hold)

    screening = hold.screening
    prices = selectors.price_list(screening)
    seats = sorted(Seat.objects.filter(pk__in=hold.seat_ids), key=lambda s: (s.y, s.x))
    chosen = request.session.get(TYPES_SESSION, {}).get(str(hold.pk), {})
    user = request.user if request.user.is_authenticated else None
    initial = {"name": user.get_full_name() if user else "", "email": user.email if user else ""}
    applying = _applying(request)
    if applying:  # the form as typed, not judged yet: only the code is being tried
        initial = {name: request.POST.get(name, "") for name in ("name", "email", "promo_code")}
        chosen = {str(seat.pk): request.POST.get(f"type_{seat.pk}", "") for seat in seats}
    form = CheckoutForm(
        request.POST if request.method == "POST" and not applying else None,
        seats=seats,
        ticket_types=prices.ticket_types,
        initial_types=chosen,
        initial=initial,
    )
    error = promo_error = ""
    if request.method == "POST" and not applying and form.is_valid():
        try:
            order = checkout_flow.order_place(
                hold_id=hold.pk,
                customer_email=form.cleaned_data["email"],
                customer_name=form.cleaned_data["name"],
                tickets=form.tickets(),
                promo_code=form.cleaned_data["promo_code"],
                buyer_key=buyers.browser_key(request),
                waiter_id=waiter_of(request) or "",
                language=translation.get_language() or "en",
                user=user,
                actor="buyer:web",
            )
        except errors.HoldExpired:
            return _expired(request, hold)
        except errors.HoldNotActive as exc:
            order = Order.objects.filter(pk=exc.details.get("order")).first()
            if order is None:
                return _expired(request, hold)
            return redirect(_done_url(order))
        except errors.PromoRefused as exc:
            promo_error = messages.explain(exc)
        except errors.DomainError as exc:
            error = messages.explain(exc)
        else:
            onsale_gate.purchase_done(request, hold.screening_id)
            return _start_payment(request, order)

    # The types as posted (a post without one prices it at the first type), or as the form
    # starts: chosen on the map, else the first type.
    first = prices.ticket_types[0]["id"] if prices.ticket_types else None
    types_now = {seat.pk: form[f"type_{seat.pk}"].value() or first for seat in seats}
    try:
        quote = pricing.quote(
            screening,
            [(pk, int(t)) for pk, t in types_now.items() if t],
            prices=prices.table,
            extra=prices.surcharges,
            seats={seat.pk: seat for seat in seats},
        )
    except (errors.DomainError, ValueError):
        quote = None
    promo_text, promo = (form["promo_code"].value() or "").strip(), None
    if quote is not None and promo_text and not promo_error:
        try:
            promo, quote = _with_promo(promo_text, screening, quote)
        except errors.PromoRefused as exc:
            promo_error = messages.explain(exc)
    context = {
        "hold": hold,
        "screening": screening,
        "film": screening.film,
        "cinema": screening.auditorium.cinema,
        "auditorium": screening.auditorium,
        "form": form,
        "prices": prices,
        "quote": quote,
        "error": error,
        "promo": promo,
        "promo_error": promo_error,
        "config": {
            **price_config(prices),
            "seatTypes": {str(s.pk): s.seat_type for s in seats},
        },
    }
    # A post that comes back here failed, unless it only tried a code, and it applied.
    failed = request.method == "POST" and (not applying or bool(promo_error))
    status = 400 if failed else 200
    response = render(request, "storefront/checkout.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


def _start_payment(request: HttpRequest, order: Order) -> HttpResponse:
    """Off to the payment provider's page; if it cannot be reached, to the order's page, which
    offers to try again."""
    try:
        payment = payments.payment_start(
            order_id=order.pk,
            return_url=request.build_absolute_uri(_done_url(order)),
            actor="buyer:web",
        )
    except errors.DomainError as exc:
        flash.error(request, messages.explain(exc))
        return redirect(_done_url(order))
    except Exception:
        log.exception("payment start failed for order %s", order.code)
        flash.error(request, str(messages.PLAIN["unknown_provider"]))
        return redirect(_done_url(order))
    return HttpResponseRedirect(payment.redirect_url)


@require_POST
def release(request: HttpRequest, hold_id) -> HttpResponse:
    hold = _owned_hold(request, hold_id)
    try:
        holds.hold_release(hold=hold)
    except errors.HoldNotActive:
        pass
    else:
        flash.info(request, _("Your seats were released."))
    return redirect("storefront:screening", pk=hold.screening_id)


# ---- payment and confirmation ----------------------------------------------------------------
@require_POST
@throttled
def pay(request: HttpRequest, token: str) -> HttpResponse:
    """Try paying again (after a declined card, or when the provider was unreachable)."""
    order = order_for_token(token)
    if order.effective_status != OrderStatus.PENDING_PAYMENT:
        return redirect(_done_url(order))
    return _start_payment(request, order)


def done(request: HttpRequest, token: str) -> HttpResponse:
    """Where the payment provider sends the buyer back: the tickets once paid; while the
    provider's word is on its way, a page that looks again by itself; after a decline, why, and
    a way to try again before the order runs out."""
    order = order_for_token(token)
    status = order.effective_status
    payment = order.payments.order_by("-created_at").first()
    state = status
    waited = _int(request.GET.get("wait"), 0)
    notice = ""
    if status == OrderStatus.PENDING_PAYMENT:
        if payment is None:
            state = "unpaid"
        elif payment.status == PaymentStatus.FAILED:
            state = "declined"
        elif request.GET.get("cancelled"):
            state, notice = "unpaid", "cancelled"
        elif request.GET.get("payment") != payment.provider_ref:
            # Not back from the provider (a second click on checkout, a bookmark): the payment
            # page is still open to them; nothing is on its way.
            state, notice = "unpaid", "open"
        elif waited >= CONFIRM_REFRESHES:
            state, notice = "unpaid", "no_word"  # stop refreshing; paying again is safe
        else:
            state = "confirming"
    screening = order.screening
    cinema = screening.auditorium.cinema
    context = {
        "order": order,
        "state": state,
        "status_label": OrderStatus(status).label,
        "payment": payment,
        "screening": screening,
        "film": screening.film,
        "cinema": cinema,
        "auditorium": screening.auditorium,
        "tickets": ticket_rows(order) if status == OrderStatus.PAID else [],
        "token": token,
        "notice": notice,
        "refresh_url": "?"
        + urlencode({"payment": request.GET.get("payment", ""), "wait": waited + 1}),
        "order_url": eticket.order_path(order),
        "calendar_url": reverse("orders:calendar", args=[token]),
    }
    response = render(request, "storefront/done.html", context)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response

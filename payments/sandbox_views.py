"""The sandbox provider's hosted payment page (TEST MODE, no real money).

It plays the outside provider: it takes a documented test card, reports the outcome to our
webhook endpoint as a signed event (an outbox message, delivered after commit by the worker over
HTTP) and sends the buyer back to the return URL. It never marks anything paid itself; the one
row it writes is that outbox message. Its state is the signed token in its URL plus a read of
the Payment row.
"""

from __future__ import annotations

import json
import re
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django import forms
from django.core import signing as django_signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ticketing.money import amount_with_code
from ticketing.outbox.services import message_add
from ticketing.outbox.topics import SANDBOX_WEBHOOK_TOPIC

from .models import Payment, PaymentStatus
from .providers import sandbox

COMPLETE = {
    PaymentStatus.SUCCEEDED,
    PaymentStatus.REFUNDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUND_FAILED,
}
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


class CardForm(forms.Form):
    number = forms.CharField(
        label="Card number",
        max_length=30,
        widget=forms.TextInput(
            attrs={"autocomplete": "cc-number", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
    expiry = forms.CharField(
        label="Expiry (MM/YY)",
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}),
    )
    cvc = forms.CharField(
        label="CVC",
        max_length=4,
        widget=forms.TextInput(attrs={"autocomplete": "cc-csc", "inputmode": "numeric"}),
    )
    name = forms.CharField(
        label="Name on card",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "cc-name"}),
    )

    def clean_number(self) -> sandbox.SandboxCard:
        digits = re.sub(r"[\s-]", "", self.cleaned_data["number"])
        card = sandbox.CARDS_BY_NUMBER.get(digits)
        if card is None:
            raise forms.ValidationError(
                "This is not a sandbox test card. Use one of the test card numbers listed above."
            )
        return card

    def clean_expiry(self) -> tuple[int, int]:
        match = _EXPIRY.match(self.cleaned_data["expiry"])
        if not match:
            raise forms.ValidationError("Enter the expiry as MM/YY.")
        month, year = int(match[1]), int(match[2])
        year = year + 2000 if year < 100 else year
        if not 1 <= month <= 12:
            raise forms.ValidationError("The month must be between 01 and 12.")
        today = date.today()
        if (year, month) < (today.year, today.month):
            raise forms.ValidationError("This card has expired; use any future date.")
        return month, year

    def clean_cvc(self) -> str:
        cvc = self.cleaned_data["cvc"].strip()
        if not re.fullmatch(r"\d{3,4}", cvc):
            raise forms.ValidationError("Enter the 3 or 4 digit CVC (any digits will do).")
        return cvc


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on the card
    # form's POST and Django's CSRF check refuses it. The signed URL still never leaves our site.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _problem(request: HttpRequest, title: str, message: str, status: int, state=None):
    context = {"title": title, "message": message, "state": state}
    if state:
        context["back_url"] = _return_url(state)
    return _no_store(render(request, "payments/sandbox_problem.html", context, status=status))


def _return_url(state: dict, *, cancelled: bool = False) -> str:
    """Back to the shop with `payment=<ref>`, and `cancelled=1` when the buyer gave up here (as
    a real provider's cancel URL would say): the shop then offers to pay again."""
    parts = urlsplit(state["return_url"])
    drop = {"payment", "cancelled"}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in drop]
    query.append(("payment", state["ref"]))
    if cancelled:
        query.append(("cancelled", "1"))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _load(request: HttpRequest, ref: str, token: str | None, *, challenge: bool = False):
    """(state, problem response): the signed state of this page, or why it cannot be shown."""
    try:
        state = (sandbox.read_challenge if challenge else sandbox.read_token)(token or "")
    except django_signing.BadSignature:
        return None, _problem(
            request,
            "This payment link is not valid",
            "The link is incomplete, was changed, or has expired. Go back to the shop and "
            "start the payment again.",
            400,
        )
    if state.get("ref") != ref:
        return None, _problem(
            request, "This payment link is not valid", "The link does not match.", 400
        )
    payment = Payment.objects.filter(provider=sandbox.NAME, provider_ref=ref).only("status").first()
    if payment is None:
        return None, _problem(
            request, "Unknown payment", "The sandbox knows no payment with this reference.", 404
        )
    if payment.status in COMPLETE:
        return None, _problem(
            request,
            "This payment is already complete",
            "Nothing more to do: the payment has already succeeded.",
            409,
            state,
        )
    return state, None


def _send(state: dict, event_type: str, failure_reason: str = "") -> None:
    """The card's outcome, as the event a provider would send: an outbox message, delivered
    after commit by `tasks.sandbox_deliver_webhook`, kept until it is."""
    body = sandbox.event_body(
        event_type=event_type,
        provider_ref=state["ref"],
        amount=state["amount"],
        currency=state["currency"],
        failure_reason=failure_reason,
    )
    event_id = json.loads(body)["id"]
    message_add(
        topic=SANDBOX_WEBHOOK_TOPIC,
        dedupe_key=f"{SANDBOX_WEBHOOK_TOPIC}:{event_id}",
        payload={"body": body},
    )


def _page_context(state: dict, **extra) -> dict:
    return {
        "state": state,
        "amount": amount_with_code(state["amount"], state["currency"]),
        "cards": sandbox.TEST_CARDS,
        "back_url": _return_url(state, cancelled=True),
        **extra,
    }


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, ref: str) -> HttpResponse:
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    state, problem = _load(request, ref, token)
    if problem:
        return problem
    form = CardForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        card: sandbox.SandboxCard = form.cleaned_data["number"]
        if card.outcome == sandbox.REQUIRES_ACTION:
            _send(state, "payment.requires_action")
            challenge = sandbox.make_challenge(state)
            url = reverse("payments_sandbox:confirm", args=[ref])
            return _no_store(HttpResponseRedirect(f"{url}?{urlencode({'c': challenge})}"))
        if card.outcome == sandbox.SUCCEEDED:
            _send(state, "payment.succeeded")
        else:
            _send(state, "payment.failed", card.failure_reason)
        return _no_store(HttpResponseRedirect(_return_url(state)))
    status = 400 if request.method == "POST" else 200
    context = _page_context(state, form=form, token=token)
    return _no_store(render(request, "payments/sandbox_checkout.html", context, status=status))


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, ref: str) -> HttpResponse:
    challenge = request.POST.get("c") if request.method == "POST" else request.GET.get("c")
    state, problem = _load(request, ref, challenge, challenge=True)
    if problem:
        return problem
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "approve":
            _send(state, "payment.succeeded")
            return _no_store(HttpResponseRedirect(_return_url(state)))
        if action == "fail":
            _send(state, "payment.failed", sandbox.AUTHENTICATION_FAILED)
            return _no_store(HttpResponseRedirect(_return_url(state)))
    context = _page_context(state, challenge=challenge)
    return _no_store(render(request, "payments/sandbox_confirm.html", context))

"""A presale code typed on the film or seat map page opens a campaign's presale for this
browser (kept in the session): its screenings can be held before general sale. The hold service
still decides, with the opening `promotions.presales` gives for the code."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from promotions import offers, presales
from ticketing import errors

from . import messages
from .throttle import throttled

SESSION_FIELD = "marquee_presale_code"


def opening_for(request: HttpRequest, screening):
    """The presale opening this browser's code gives for the screening, or None. A code that
    no longer applies is simply no presale: general sale rules."""
    code = request.session.get(SESSION_FIELD) if hasattr(request, "session") else None
    if not code:
        return None
    try:
        return presales.presale_opening(screening=screening, promo_code=code)
    except errors.PromoRefused:
        return None


def film_presale_open(request: HttpRequest, film) -> bool:
    """Whether this browser's code opens a presale of this film now (for the film page's
    showtimes: the seat map page asks `opening_for`, which checks the screening itself)."""
    raw = request.session.get(SESSION_FIELD) if hasattr(request, "session") else None
    if not raw:
        return False
    try:
        code = offers.code_find(raw)
        offers.check_valid_now(code)
        offers.check_not_exhausted(code)
    except errors.PromoRefused:
        return False
    opens = code.campaign.presale_opens_at
    if not code.opens_presale or opens is None or opens > timezone.now():
        return False
    films = {f.pk for f in code.films.all()} or {f.pk for f in code.campaign.films.all()}
    return not films or film.pk in films


def showtimes_opened(request: HttpRequest, film, days) -> bool:
    """Mark the film's showtimes a presale code opens as on sale; True when some showtimes wait
    for general sale and no code opened them (the page then offers the code field)."""
    waiting = [s for day in days for c in day.cinemas for s in c.showtimes if s.opens_later]
    if not waiting:
        return False
    if film_presale_open(request, film):
        for showtime in waiting:
            showtime.on_sale = True
        return False
    return True


@require_POST
@throttled
def unlock(request: HttpRequest) -> HttpResponse:
    """Check the code opens a presale now, remember it, and go back where the buyer was."""
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = "/"
    raw = (request.POST.get("code") or "").strip()
    try:
        code = offers.code_find(raw)
        offers.check_valid_now(code)
        offers.check_not_exhausted(code)
        if not code.opens_presale or code.campaign.presale_opens_at is None:
            raise errors.PromoNotApplicable(promo_code=code.code, reason="no_presale")
    except errors.PromoRefused as refused:
        flash.error(request, messages.explain(refused))
        return HttpResponseRedirect(back)
    request.session[SESSION_FIELD] = code.code
    flash.success(
        request, _("Presale code accepted: you can choose seats as soon as the presale opens.")
    )
    return HttpResponseRedirect(back)

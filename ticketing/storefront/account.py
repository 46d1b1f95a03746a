"""Optional accounts: a buyer who signs in finds their past orders; guests need none."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from ticketing import buyers
from ticketing.orders import tickets as eticket
from ticketing.orders.models import Order, OrderStatus

from .throttle import throttled


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"))
    first_name = forms.CharField(label=_("Name"), max_length=150)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name", "email")

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(_("An account with this email already exists."))
        return email


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and safe else default


@require_http_methods(["GET", "POST"])
@throttled
def signup(request: HttpRequest) -> HttpResponse:
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        with buyers.kept_through_session_change(request):
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect(_next(request, "storefront:account"))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "next": _next(request, "")}
    return render(request, "storefront/signup.html", context, status=status)


@method_decorator(throttled, name="dispatch")
class SignInView(auth_views.LoginView):
    template_name = "storefront/login.html"

    def form_valid(self, form):
        with buyers.kept_through_session_change(self.request):
            return super().form_valid(form)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """Sign out; seats this browser holds stay held (it is the same buyer at the same screen)."""
    with buyers.kept_through_session_change(request):
        logout(request)
    return redirect("storefront:home")


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The signed-in buyer's orders, newest first, each with its order page."""
    orders = (
        Order.objects.filter(user=request.user)
        .select_related("screening__film", "screening__auditorium__cinema")
        .order_by("-created_at")[:50]
    )
    rows = [
        {"order": o, "url": eticket.order_path(o), "status": OrderStatus(o.effective_status).label}
        for o in orders
    ]
    return render(request, "storefront/account.html", {"rows": rows})

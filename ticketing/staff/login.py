"""Staff: signing in with a password and a second factor (being built)."""

from django.contrib.auth import logout as auth_logout
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST


def login(request):
    return redirect(f"/admin/login/?next={request.GET.get('next', '/staff/')}")


@require_POST
def logout(request):
    auth_logout(request)
    return redirect("staff:login")


urlpatterns = [
    path("login/", login, name="login"),
    path("logout/", logout, name="logout"),
]

"""The sandbox provider's hosted pages, mounted at /payments/sandbox/ (TEST MODE)."""

from django.urls import re_path

from . import sandbox_views

app_name = "payments_sandbox"

REF = r"(?P<ref>sbx_pay_[A-Za-z0-9]{1,64})"

urlpatterns = [
    re_path(rf"^{REF}/$", sandbox_views.checkout, name="checkout"),
    re_path(rf"^{REF}/confirm/$", sandbox_views.confirm, name="confirm"),
]

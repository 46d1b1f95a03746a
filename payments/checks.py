"""System checks: a production site must not sell through the sandbox.

With DEBUG off a sandbox without its opt-in refuses to start at settings load, in every process
(ticketing/security.py); these deploy checks remain the reminder `manage.py check --deploy`
prints when it runs on purpose."""

from django.conf import settings
from django.core.checks import Warning, register

from ticketing.security import DEFAULT_SANDBOX_SECRET


@register("payments", deploy=True)
def sandbox_in_production(app_configs, **kwargs):
    """`manage.py check --deploy` warns: the sandbox hands out tickets for test card numbers,
    and its default webhook secret is public."""
    conf = settings.MARQUEE_PAYMENTS
    if settings.DEBUG or "sandbox" not in conf["PROVIDERS"]:
        return []
    found = [
        Warning(
            "The sandbox payment provider is enabled: anyone can pay with its test cards.",
            hint="Set MARQUEE_PAYMENT_PROVIDERS=stripe (without sandbox) in production.",
            id="payments.W001",
        )
    ]
    if conf["SANDBOX_WEBHOOK_SECRET"] == DEFAULT_SANDBOX_SECRET:
        found.append(
            Warning(
                "The sandbox's webhook secret is the public default.",
                hint="Set MARQUEE_SANDBOX_WEBHOOK_SECRET, or disable the sandbox.",
                id="payments.W002",
            )
        )
    return found

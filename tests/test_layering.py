"""One writer per table: a write through a model's manager (`Model.objects....update()` and the
like) appears only in the module that owns the table. The import layers themselves are checked
by `lint-imports` (`make lint`); this checks what imports cannot show."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ["ticketing", "payments", "promotions"]
WRITES = {
    "create",
    "bulk_create",
    "bulk_update",
    "update",
    "delete",
    "get_or_create",
    "update_or_create",
}
OWNERS = {
    "SeatClaim": {"ticketing/inventory/claims.py"},
    "Hold": {"ticketing/inventory/holds.py"},
    "Order": {"ticketing/orders/services.py"},
    "Ticket": {"ticketing/orders/services.py"},
    "OrderStatusChange": {"ticketing/orders/services.py"},
    "Payment": {"payments/services.py", "payments/refunds.py"},
    "Refund": {"payments/services.py", "payments/refunds.py"},
    "ProviderEvent": {"payments/services.py"},
    "OutboxMessage": {"ticketing/outbox/services.py"},
    "IdempotencyRecord": {"ticketing/api/idempotency.py"},
    "Campaign": {"promotions/campaigns.py", "promotions/redemptions.py"},
    "PromoCode": {"promotions/codes.py", "promotions/redemptions.py"},
    "Redemption": {"promotions/redemptions.py"},
    "CodeEmailUse": {"promotions/redemptions.py"},
    "Allocation": {"ticketing/inventory/allocations.py"},
    "WebhookEndpoint": {"ticketing/webhooks/services.py"},
    "WebhookDelivery": {"ticketing/webhooks/services.py"},
    "AuditEntry": {"ticketing/audit/services.py"},
    "StaffProfile": {"ticketing/staff/services.py"},
    "CheckIn": {"ticketing/checkin/services.py"},
    "Scan": {"ticketing/checkin/services.py"},
    "CheckInConflict": {"ticketing/checkin/services.py"},
    "CancellationRun": {"ticketing/flows/mass_refunds.py"},
    "CancellationItem": {"ticketing/flows/mass_refunds.py"},
    "TOTPDevice": {"ticketing/staff/devices.py"},
    "Onsale": {"ticketing/onsale/services.py"},
    "BuyerTally": {"ticketing/onsale/limits.py"},
    "BuyerCharge": {"ticketing/onsale/limits.py"},
    "StaticDevice": {"ticketing/staff/devices.py"},
    "StaticToken": {"ticketing/staff/devices.py"},
}


def _manager_model(node: ast.AST) -> str | None:
    """`Model` when the call chain starts at `Model.objects`."""
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "objects"
            and isinstance(node.value, ast.Name)
        ):
            return node.value.id
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def manager_writes() -> list[tuple[str, int, str]]:
    """(path, line, model) for every write through a model manager in the packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITES
                ):
                    model = _manager_model(node.func.value)
                    if model:
                        found.append((str(path.relative_to(ROOT)), node.lineno, model))
    return found


def test_each_table_is_written_only_by_its_owner_module():
    strays = [
        f"{path}:{line} writes {model} (owner: {', '.join(sorted(OWNERS[model]))})"
        for path, line, model in manager_writes()
        if model in OWNERS and path not in OWNERS[model]
    ]
    assert strays == []


def test_the_writer_check_sees_the_writes_it_is_meant_to_see():
    """The scan finds the owners' own writes, so an empty list of strays means something."""
    seen = {(path, model) for path, _, model in manager_writes()}
    assert ("ticketing/inventory/claims.py", "SeatClaim") in seen
    assert ("ticketing/orders/services.py", "Order") in seen
    assert ("ticketing/inventory/holds.py", "Hold") in seen

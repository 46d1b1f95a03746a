"""Flows that cross domains: one home above inventory, orders and payments.

A domain package (screenings, inventory, orders, payments, ...) owns its tables and knows only the
packages below it. When one user action has to change several of them in one transaction (a
buyer cancelling a paid order is a refund in payments, the order's status in orders and its
seats in inventory), the flow that decides the order of those steps lives here, in the spirit of
Zulip's `zerver/actions/`. Views, admin actions, Celery tasks and commands call a flow or a
domain service; a flow calls only services, never writes a model itself.

- `cancellation.py`: what a buyer's or partner's "cancel" means for an order.
- `sweep.py`: sweeping what has died (unpaid orders, dead claims, dead holds), and its task.
- (the staff issue) cancelling a whole screening with its refunds; (promotions) presales and
  campaign budgets that span orders and promotions.
"""

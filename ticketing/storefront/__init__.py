"""The moviegoer's storefront: server-rendered pages from film to seat to ticket.

Views read through `selectors` and change state only through the inventory, orders and payments
services, exactly like the partner API.
"""

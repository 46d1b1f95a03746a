"""Campaigns, promo codes, presales and attribution (see ../shared/DESIGN.md, "Campaign and
promo code"). Not built yet: until it is, orders refuse any promo code with 400
`promo_code_invalid` (ticketing.orders.services.order_create), and Order.discount stays 0."""

"""Campaigns, promo codes, presales and attribution (see ../shared/DESIGN.md, "Campaign and
promo code"): `campaigns.py`, `codes.py`, `offers.py` (what a code takes off), `redemptions.py`
(the conditional counters that keep codes and budgets within their limits), `presales.py`,
`reports.py`; the API in `api.py` and `report_api.py`."""

"""The onsale: a sale declared by staff for a set of screenings, and its fair waiting room.

A domain above inventory and orders, below flows: `models.py` (the `Onsale`), `services.py`
(its only writer), `selectors.py` (`onsale_for_screening`, cached briefly: on the seat map's hot
path), `waiting.py` (the waiting room in Redis: registering, the one shuffle at opening, the
queue, admissions), `tokens.py` (the signed admission token, bound to the browser).
"""

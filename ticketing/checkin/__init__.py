"""Door check-in: each ticket admitted once, whatever the number of scanners, online or not.

- `models.py`: `CheckIn` (one row per admission: door, device, time, nonce, offline), `Scan`
  (every answer a door was given, which is also what a resent nonce replays) and
  `CheckInConflict` (a ticket let in at two doors while they were offline).
- `services.py`: the one writer of those tables; `checkin_scan` decides a scan, and
  `orders.services.ticket_mark_checked_in`, one conditional UPDATE, decides who is admitted.
- `selectors.py`: what a door caches to work offline (a screening's tickets, today's
  screenings) and who a caller is (`Door`: a scanner key bound to a cinema, or a staff member).

The QR codes' signatures are `ticketing/ticket_signing.py`'s; the API is `ticketing/api/checkins.py`.
"""

"""Who changed what: one row per staff action on prices, schedules, layouts, refunds and
cancellations, written by the service that made the change, in the same transaction.

The services call `services.audit_record`; nothing else writes the table. Staff search it at
`/staff/audit/`; the admin shows it read-only.
"""

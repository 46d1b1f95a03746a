"""The pages cinema staff use every day (`/staff/`), and who may use them for which cinemas.

- `roles.py`: the three roles (box office, manager, partner manager) as Django groups with their
  permissions, kept in step with the code after every migrate.
- `access.py`: which cinemas a staff member works for (`cinemas_for`), the `@staff_page`
  decorator every page uses (signed in, second factor verified, permission held), and the
  querysets narrowed to those cinemas.
- one module per page: `dashboard.py`, `schedule.py`, `layout_editor.py`, `cancellations.py`,
  `door.py`, `exports.py`, `audit_log.py`, with `login.py` for signing in with a second factor.

These are interfaces: they read through selectors and write through services, like the API.
"""

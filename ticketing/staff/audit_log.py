"""Staff: audit_log (being built)."""

urlpatterns: list = []

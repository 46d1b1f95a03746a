"""Staff: dashboard (being built)."""

urlpatterns: list = []

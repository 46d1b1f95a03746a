"""Staff: schedule (being built)."""

urlpatterns: list = []

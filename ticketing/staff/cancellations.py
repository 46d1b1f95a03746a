"""Staff: cancellations (being built)."""

urlpatterns: list = []

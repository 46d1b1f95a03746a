"""Staff: exports (being built)."""

urlpatterns: list = []

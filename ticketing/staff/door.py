"""Staff: door (being built)."""

urlpatterns: list = []

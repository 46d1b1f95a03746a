"""Staff: layout_editor (being built)."""

urlpatterns: list = []

from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone

from .models import Film, ScreeningStatus


def home(request):
    """A plain landing page until the storefront arrives."""
    ahead = Q(
        screenings__starts_at__gte=timezone.now(), screenings__status=ScreeningStatus.SCHEDULED
    )
    films = (
        Film.objects.annotate(screening_count=Count("screenings", filter=ahead))
        .filter(screening_count__gt=0)
        .order_by("title")
    )
    return render(request, "home.html", {"films": films})

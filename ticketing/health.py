"""`/healthz`: the database must answer; Redis is reported but never fails the check (sales go on
without it)."""

from django.db import connection
from django.http import JsonResponse

from ticketing import cache


def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:
        database = "down"
    cache.set("healthz", "1", 5)
    redis = "ok" if cache.get("healthz") == "1" else "degraded"
    status = 200 if database == "ok" else 503
    return JsonResponse({"database": database, "cache": redis}, status=status)

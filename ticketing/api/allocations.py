"""`GET /api/v1/allocations/`: the calling partner's seats set aside, per screening, with the
release time and what is left, held and sold. A partner sees only its own."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ticketing.inventory import allocations
from ticketing.partners.models import Scope

from .common import ERROR
from .permissions import RequiresScope

ALLOCATION = inline_serializer(
    "Allocation",
    {
        "id": serializers.IntegerField(),
        "screening": serializers.IntegerField(),
        "film": serializers.CharField(),
        "starts_at": serializers.DateTimeField(),
        "release_at": serializers.DateTimeField(),
        "released": serializers.BooleanField(),
        "seats": serializers.ListField(child=serializers.IntegerField()),
        "left": serializers.IntegerField(),
        "held": serializers.IntegerField(),
        "sold": serializers.IntegerField(),
    },
    many=True,
)


def allocation_json(state: allocations.AllocationState) -> dict:
    allocation = state.allocation
    return {
        "id": allocation.pk,
        "screening": allocation.screening_id,
        "film": allocation.screening.film.title,
        "starts_at": allocation.screening.starts_at.isoformat(),
        "release_at": allocation.release_at.isoformat(),
        "released": state.released,
        "seats": allocation.seat_ids,
        "left": state.left,
        "held": state.held,
        "sold": state.sold,
    }


@extend_schema(tags=["allocations"])
class AllocationList(APIView):
    """Seats set aside for you: only you hold them until `release_at`; they show as held to
    everyone else on the seat map. After the release time they are back on general sale."""

    permission_classes = [RequiresScope(Scope.BOOK)]

    @extend_schema(
        responses={200: inline_serializer("Allocations", {"results": ALLOCATION}), 403: ERROR}
    )
    def get(self, request):
        partner = getattr(request.user, "partner", None)
        states = allocations.allocations_of(partner=partner) if partner is not None else []
        return Response({"results": [allocation_json(s) for s in states]})

"""A JSON view with the same authentication and permission as flag evaluation and no
work of its own: the framework's floor that bench/flags_eval.py compares evaluation
against. Served only when DEZKY_BENCH_FLOOR is on."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flags.api.views import CanEvaluateFlags


class FloorView(APIView):
    permission_classes = [CanEvaluateFlags]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        return Response({"ok": True})

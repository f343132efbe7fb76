"""The operators API: inviting an operator."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.request_meta import client_ip
from operators.invites import operator_invite
from operators.permissions import IsOperator


class InviteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254)


_CREDENTIAL = inline_serializer(
    "InviteCredential",
    {
        "subject": serializers.CharField(help_text="The new account's subject at the IdP."),
        "user_id": serializers.IntegerField(),
        "email": serializers.EmailField(),
        "link": serializers.URLField(
            required=False,
            help_text="A recovery link (works once; expires after Authentik's recovery "
            "token validity, AUTHENTIK_RECOVERY_LINK_MINUTES), or…",
        ),
        "temp_password": serializers.CharField(
            required=False, help_text="…a temporary password: exactly one of the two."
        ),
    },
)


class InviteView(APIView):
    permission_classes = [IsOperator]

    @extend_schema(
        summary="Invite an operator",
        request=InviteSerializer,
        responses={
            201: _CREDENTIAL,
            400: OpenApiResponse(description="A bad field, named."),
            409: OpenApiResponse(
                description="The email (or, in Authentik, the username) already belongs to "
                "an account; `field` is `email`."
            ),
            429: OpenApiResponse(description="Too many invites this minute."),
            502: OpenApiResponse(description="Authentik failed; its message is carried."),
        },
    )
    def post(self, request: Request) -> Response:
        body = InviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = operator_invite(
            name=body.validated_data["name"],
            email=body.validated_data["email"],
            actor=request.user,
            ip=client_ip(request),
        )
        payload = {"subject": result.subject, "user_id": result.user_id, "email": result.email}
        if result.link:
            payload["link"] = result.link
        else:
            payload["temp_password"] = result.temp_password
        response = Response(payload, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"  # a credential: no cache may keep it
        return response

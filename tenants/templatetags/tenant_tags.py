"""Tones for tenant and provisioning states, so every page colours them the same."""

from __future__ import annotations

from django import template

register = template.Library()

STATUS_TONES = {"active": "success", "pending": "info", "suspended": "warning", "deleted": "danger"}
PROVISIONING_TONES = {"ready": "success", "pending": "info", "error": "danger",
                      "not_configured": "neutral"}  # fmt: skip
PROVISIONING_LABELS = {"ready": "Ready", "pending": "Pending", "error": "Error",
                       "not_configured": "Not configured"}  # fmt: skip


@register.filter
def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "neutral")


@register.filter
def provisioning_tone(state: str) -> str:
    return PROVISIONING_TONES.get(state, "neutral")


@register.filter
def provisioning_label(state: str) -> str:
    return PROVISIONING_LABELS.get(state, state)

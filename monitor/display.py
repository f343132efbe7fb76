"""How the monitor's states look: the tone (the design tokens' colour families, as
console.tones names them) and the words of each state, severity and status."""

from __future__ import annotations

STATE_TONES = {
    "up": "success",
    "down": "danger",
    "unknown": "info",
    "not_configured": "neutral",
    "simulated": "warning",
}
STATE_LABELS = {
    "up": "Up",
    "down": "Down",
    "unknown": "Not probed yet",
    "not_configured": "Not configured",
    "simulated": "Simulated (demo): not probed",
}
SEVERITY_TONES = {"minor": "info", "major": "warning", "critical": "danger"}
STATUS_TONES = {
    "investigating": "danger",
    "identified": "warning",
    "monitoring": "info",
    "resolved": "success",
}

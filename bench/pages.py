"""Median render time of each tenants page (and its API list) at 10,000 tenants and
50,000 users, through Django's test client (the whole request: middleware, session,
queries, template)."""

from __future__ import annotations

from _setup import measure, scale_and_sign_in


def main() -> None:
    client = scale_and_sign_in()
    from tenants.models import Tenant

    busiest = Tenant.objects.filter(status="active").order_by("pk").first().slug
    pages: dict[str, str | tuple[str, dict[str, str]]] = {
        "overview": "/",
        "tenants list": "/tenants/",
        "tenants list, page 100": "/tenants/?page=100",
        "tenants list, search": "/tenants/?q=company+12",
        "tenants list, chip": "/tenants/?status=suspended",
        "tenants list, sort by partner": "/tenants/?sort=partner",
        "tenants list, needs follow-up": "/tenants/?problem=follow_up",
        "tenants list, swap (htmx)": ("/tenants/?plan=business&sort=-name", {"HX-Request": "true"}),
        "tenant detail (overview tab)": f"/tenants/{busiest}/",
        "tenant detail, users tab": f"/tenants/{busiest}/?tab=users",
        "tenant detail, resources tab": f"/tenants/{busiest}/?tab=resources",
        "tenant detail, audit tab": f"/tenants/{busiest}/?tab=audit",
        "tenant detail, danger tab": f"/tenants/{busiest}/?tab=danger",
        "tenant suspend, confirm page": f"/tenants/{busiest}/suspend/",
        "partners": "/partners/",
        "partner detail": "/partners/bench-partner-1/",
        "API tenants list": "/api/tenants/",
        "API tenant users": f"/api/tenants/{busiest}/users/",
    }
    print(f"{'page':34} {'median ms':>10} {'p90 ms':>8} {'queries':>8}")
    for name, target in pages.items():
        url, headers = target if isinstance(target, tuple) else (target, {})
        m = measure(client, url, headers=headers)
        print(f"{name:34} {m.median_ms:10.1f} {m.p90_ms:8.1f} {m.queries:8d}")


if __name__ == "__main__":
    main()

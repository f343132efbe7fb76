"""Median time of the command palette's answer (GET /palette/?q=, as htmx asks for it)
at 10,000 tenants and 50,000 users, with its query count, through Django's test client
(the whole request: middleware, session, the sources' queries, the template)."""

from __future__ import annotations

from _setup import measure, scale_and_sign_in

HTMX = {"HX-Request": "true"}


def main() -> None:
    client = scale_and_sign_in()
    queries = {
        "empty box (recents, actions)": "",
        "tenant name fragment": "company 123",
        "email fragment": "user4711@",
        "flag key": "jmap_native",
        "one letter": "e",
        "no match": "zzzz-nothing",
    }
    print(f"{'query':30} {'q':14} {'median ms':>10} {'p90 ms':>8} {'queries':>8} {'rows':>5}")
    for name, q in queries.items():
        m = measure(client, "/palette/", data={"q": q}, headers=HTMX)
        rows = m.content.count(b'role="option"')
        print(f"{name:30} {q!r:14} {m.median_ms:10.1f} {m.p90_ms:8.1f} {m.queries:8d} {rows:5d}")


if __name__ == "__main__":
    main()

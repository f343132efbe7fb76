"""Operator login and service tokens through an OpenID provider (Authentik).

- `provider`: the provider's endpoints from one `OIDC_ISSUER` (discovery, cached)
  and its signing keys (JWKS, cached, refetched on an unknown key id), and the one
  function that verifies a JWT it issued.
- `backend`, `views`, `middleware`: mozilla-django-oidc, with the gaps it leaves
  closed (audience and issuer checks, `is_active` on every request, htmx-friendly
  session refresh, logout at the provider).
"""

"""The web layer's shared parts: everything that knows about HTTP requests but no single feature.

Blueprints (``cplan.blueprints``) build on these; nothing below the web layer (services,
models, pipelines, devdata) imports them. ``access`` (the permission decorators), ``security``
(the sign-in guard, the principal of a request), ``errors`` (every error and domain refusal
as a page or JSON), ``templating`` (every app-wide template helper), ``navigation``, ``i18n``,
``ratelimits``, ``forms``, the blueprint kit (``kit``: paging and id arguments, choices, field
errors, safe redirects, downloads), and ``lifecycle`` (the hooks through which the layers below
learn what only the request knows: a safe request's first transaction, work after the response).
"""

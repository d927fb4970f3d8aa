"""The API documentation at ``/schema``: Swagger UI from our own copy, under our page CSP.

Litestar's render plugins load their viewer from a CDN and start it with an
inline script, which our CSP forbids. This one serves the page with external
files only: Swagger UI's bundle and stylesheet from ``static/vendor/swagger-ui``
(copied there from npm by ``scripts/setup``, never committed) and
``static/js/schema.js``, which starts it. The validator badge (a request to
swagger.io) is switched off there. The OpenAPI document itself stays at
``/schema/openapi.json`` (and ``.yaml``).
"""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin, YamlRenderPlugin

from slotwise.web.static import asset_url

SWAGGER_JS = "vendor/swagger-ui/swagger-ui-bundle.js"
SWAGGER_CSS = "vendor/swagger-ui/swagger-ui.css"


class LocalSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI at ``/schema`` and ``/schema/swagger``, every file from our own origin."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon='<link rel="icon" href="data:,">', style="")

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        spec_url = escape(self.get_openapi_json_route(request))
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
{self.favicon}
<link rel="stylesheet" href="{asset_url(SWAGGER_CSS)}">
<link rel="stylesheet" href="{asset_url("css/schema.css")}">
<script src="{asset_url(SWAGGER_JS)}" defer></script>
<script src="{asset_url("js/schema.js")}" defer></script>
</head>
<body>
<main id="swagger-ui" data-spec-url="{spec_url}"></main>
<noscript><p><a href="{spec_url}">The OpenAPI document (JSON)</a></p></noscript>
</body>
</html>
""".encode()


def render_plugins() -> list[OpenAPIRenderPlugin]:
    return [LocalSwaggerRenderPlugin(), JsonRenderPlugin(), YamlRenderPlugin()]

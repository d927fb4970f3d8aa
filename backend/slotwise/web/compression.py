"""gzip for every answer over 500 bytes, at a level chosen by path.

Litestar compresses at one level (9 by default) for the whole app. The
widget's byte budget (25,000 bytes gzipped, ``bench/widget.py``) is counted
on what the widget loads, so its script, styles, pages and fragments keep
level 9. The admin API's JSON answers (``/api/v1/admin/…``) are compressed at
level 4: a week's page of 50 bookings (about 30 KB of JSON) then costs about
0.1 ms instead of 0.4 ms to compress and comes out within a few percent of
level 9's size (``bench/admin.py``; docs/decisions.md, Performance). The back
office's pages (``/admin/…``) are compressed at level 1: a busy day view is
about 60 KB of HTML, which level 1 compresses in half of level 4's time (0.2
against 0.36 ms for 80 KB here) for about a tenth more bytes; the page's
weight bar (60 KB with its styles and scripts) has room to spare
(``bench/backoffice.py``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from litestar.config.compression import CompressionConfig
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, Scope, Send

MINIMUM_SIZE = 500
# Paths compressed faster than the widget's level 9, first match wins.
FAST_LEVELS = (("/api/v1/admin/", 4), ("/admin/", 1))


class PathLevelCompression(CompressionMiddleware):
    """Litestar's middleware, with a second configuration for the fast paths."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        super().__init__(app, config)
        self._default = config
        self._fast = tuple((prefix, replace(config, gzip_compress_level=level)) for prefix, level in FAST_LEVELS)

    def create_compression_send_wrapper(
        self,
        send: Send,
        compression_encoding: Literal[CompressionEncoding.BROTLI, CompressionEncoding.GZIP] | str,
        scope: Scope,
    ) -> Send:
        # The facade reads the level from self.config while the wrapper is made,
        # with no await in between: no other request can see the swapped config.
        path = scope["path"]
        self.config = next((fast for prefix, fast in self._fast if path.startswith(prefix)), self._default)
        try:
            return super().create_compression_send_wrapper(send, compression_encoding, scope)
        finally:
            self.config = self._default


def compression_config() -> CompressionConfig:
    # Pages, fragments and JSON shrink 4-6x; the widget's byte budget counts gzipped.
    return CompressionConfig(backend="gzip", minimum_size=MINIMUM_SIZE, middleware_class=PathLevelCompression)

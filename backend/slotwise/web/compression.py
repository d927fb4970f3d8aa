"""gzip for every answer over 500 bytes, at a level chosen by path.

Litestar compresses at one level (9 by default) for the whole app. The
widget's byte budget (25,000 bytes gzipped, ``bench/widget.py``) is counted
on what the widget loads, so its script, styles, pages and fragments keep
level 9. The admin API's JSON answers (``/api/v1/admin/…``) are compressed at
level 4: a week's page of 50 bookings (about 30 KB of JSON) then costs about
0.1 ms instead of 0.4 ms to compress and comes out within a few percent of
level 9's size (``bench/admin.py``; docs/decisions.md, Performance). The back
office's pages (``/admin/…``) take the same level: the day view's HTML costs a
fifth of level 9's time for a few percent more bytes (``bench/backoffice.py``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from litestar.config.compression import CompressionConfig
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware
from litestar.types import ASGIApp, Scope, Send

MINIMUM_SIZE = 500
FAST_PREFIXES = ("/api/v1/admin/", "/admin/")
FAST_LEVEL = 4


class PathLevelCompression(CompressionMiddleware):
    """Litestar's middleware, with a second configuration for the fast paths."""

    def __init__(self, app: ASGIApp, config: CompressionConfig) -> None:
        super().__init__(app, config)
        self._default = config
        self._fast = replace(config, gzip_compress_level=FAST_LEVEL)

    def create_compression_send_wrapper(
        self,
        send: Send,
        compression_encoding: Literal[CompressionEncoding.BROTLI, CompressionEncoding.GZIP] | str,
        scope: Scope,
    ) -> Send:
        # The facade reads the level from self.config while the wrapper is made,
        # with no await in between: no other request can see the swapped config.
        self.config = self._fast if scope["path"].startswith(FAST_PREFIXES) else self._default
        try:
            return super().create_compression_send_wrapper(send, compression_encoding, scope)
        finally:
            self.config = self._default


def compression_config() -> CompressionConfig:
    # Pages, fragments and JSON shrink 4-6x; the widget's byte budget counts gzipped.
    return CompressionConfig(backend="gzip", minimum_size=MINIMUM_SIZE, middleware_class=PathLevelCompression)

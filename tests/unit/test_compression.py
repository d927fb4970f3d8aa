"""gzip levels by path (web/compression.py): the admin API and back office fast, the rest at level 9."""

import gzip
import json

from litestar import Litestar, get
from litestar.testing import TestClient

from slotwise.web.compression import compression_config

BODY = {"data": [{"id": f"bkg_{n:032x}", "customer": f"Customer {n}", "status": "confirmed"}
                 for n in range(200)]}


@get("/api/v1/admin/sites/x/bookings", sync_to_thread=False)
def admin_list() -> dict:
    return BODY


@get("/api/v1/sites/x/availability", sync_to_thread=False)
def availability() -> dict:
    return BODY


@get("/admin/sites/x", sync_to_thread=False)
def day_view() -> dict:
    return BODY


def _raw(path: str) -> bytes:
    app = Litestar(route_handlers=[admin_list, availability, day_view], compression_config=compression_config())
    with TestClient(app) as client:
        with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
            assert response.headers["content-encoding"] == "gzip"
            return b"".join(response.iter_raw())


def test_admin_answers_are_gzipped_at_a_faster_level_and_the_rest_at_level_9():
    admin, widget = _raw("/api/v1/admin/sites/x/bookings"), _raw("/api/v1/sites/x/availability")
    assert json.loads(gzip.decompress(admin)) == BODY
    assert json.loads(gzip.decompress(widget)) == BODY
    # The gzip header's XFL byte: 2 = written at level 9, 0 = a level between 2 and 8.
    assert widget[8] == 2
    assert admin[8] == 0


def test_back_office_pages_are_gzipped_at_the_fastest_level():
    page = _raw("/admin/sites/x")
    assert json.loads(gzip.decompress(page)) == BODY
    assert page[8] == 4  # XFL 4: written at level 1


def test_the_level_does_not_leak_from_one_request_to_the_next():
    app = Litestar(route_handlers=[admin_list, availability], compression_config=compression_config())
    with TestClient(app) as client:
        for path, xfl in [("/api/v1/admin/sites/x/bookings", 0), ("/api/v1/sites/x/availability", 2),
                          ("/api/v1/admin/sites/x/bookings", 0), ("/api/v1/sites/x/availability", 2)]:
            with client.stream("GET", path, headers={"Accept-Encoding": "gzip"}) as response:
                assert b"".join(response.iter_raw())[8] == xfl


def test_the_app_compresses_by_path(tmp_path):
    from slotwise.settings import Settings
    from slotwise.web.app import create_app
    from slotwise.web.compression import PathLevelCompression

    app = create_app(Settings.from_env({"SLOTWISE_DATA_DIR": str(tmp_path), "SLOTWISE_SECRET_KEY": "k" * 40,
                                        "SLOTWISE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}))
    assert app.compression_config is not None
    assert app.compression_config.middleware_class is PathLevelCompression
    assert app.compression_config.minimum_size == 500 and app.compression_config.gzip_compress_level == 9

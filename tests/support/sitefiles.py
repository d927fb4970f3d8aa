"""Small site files for the integration tests, and helpers that write them."""

from __future__ import annotations

from pathlib import Path

from slotwise.sitefile import SiteSpec, parse_site

# Berlin, weekdays 09:00-12:00 and 13:00-17:00. The tests' clock stands at
# Monday 2026-11-23 08:00 CET, so Tuesday 2026-11-24 is a plain working day.
TEST_SITE = """
[site]
slug = "test-physio"
name = "Test Physio"
timezone = "Europe/Berlin"
locale = "en"
allowed_origins = ["https://test-physio.example"]
contact_phone = "+49 40 1111111"
closed = ["2026-12-25"]

[site.hours]
mon = ["09:00-12:00", "13:00-17:00"]
tue = ["09:00-12:00", "13:00-17:00"]
wed = ["09:00-12:00", "13:00-17:00"]
thu = ["09:00-12:00", "13:00-17:00"]
fri = ["09:00-12:00", "13:00-17:00"]

[[resources]]
key = "anna"
name = "Anna Berg"
kind = "person"

[[resources]]
key = "ben"
name = "Ben Petersen"
kind = "person"
hours = { tue = ["10:00-14:00"] }

[[resources]]
key = "room-1"
name = "Room 1"
kind = "room"

[[resources]]
key = "studio"
name = "Studio"
kind = "room"
hours = { wed = ["18:00-19:00"] }

[[services]]
slug = "quick"
name = "Quick check"
duration = 30
step = 30
min_notice = "2h"
max_advance = "180d"
price = "25.00 EUR"
resources = ["anna"]

[[services]]
slug = "assessment"
name = "Assessment"
duration = 45
step = 15
buffer_after = 15
max_advance = "60d"
resources = [["anna", "ben"], ["room-1"]]

[[services]]
slug = "class"
name = "Back class"
duration = 60
step = 60
seats = 3
max_advance = "60d"
resources = ["studio"]
"""


# The test site with a change policy: "quick" may be cancelled until 24 h and
# moved until 12 h before its start, and a booking at most twice.
POLICY_SITE = TEST_SITE.replace(
    'min_notice = "2h"\nmax_advance = "180d"\nprice = "25.00 EUR"',
    'min_notice = "2h"\nmax_advance = "180d"\nprice = "25.00 EUR"\ncancel_until = "24h"\nreschedule_until = "12h"',
).replace('contact_phone = "+49 40 1111111"', 'contact_phone = "+49 40 1111111"\nmax_reschedules = 2')


def parse_test_site(text: str = TEST_SITE) -> SiteSpec:
    return parse_site(text, source="test-physio.toml")


def write(tmp_path: Path, text: str, name: str = "site.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path

"""Colours a site's accent gives its pages and emails, readable by WCAG 2 contrast. Pure.

An accent is "rrggbb" (lower case, no "#").
"""

from __future__ import annotations

# The default email button: the emails' own dark ink (stone-900).
EMAIL_INK = "1c1917"


def _luminance(rgb: str) -> float:
    """WCAG 2 relative luminance of "rrggbb"."""

    def channel(hex2: str) -> float:
        c = int(hex2, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(rgb[i : i + 2]) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def theme_colours(accent: str) -> dict[str, str]:
    """The accent, the text colour on it, and a shade of it readable as text on white.

    Black or white on the accent, whichever contrasts more: one of them always
    reaches at least 4.58:1. For text and focus rings on the white page the
    accent is darkened in 5 % steps until it reaches 4.5:1 (a pale "#ffdd00"
    becomes "#7a6a00"; "#0a7f6f" already passes and stays).
    """
    on_accent = "000000" if contrast(accent, "000000") >= contrast(accent, "ffffff") else "ffffff"
    ink = accent
    factor = 1.0
    while contrast(ink, "ffffff") < 4.5 and factor > 0:
        factor = round(factor - 0.05, 2)
        ink = "".join(f"{int(int(accent[i : i + 2], 16) * factor):02x}" for i in (0, 2, 4))
    return {"accent": accent, "on_accent": on_accent, "ink": ink}


def email_button(accent: str | None) -> dict[str, str]:
    """The email button's background and text, and the colour of links, as "#rrggbb".

    The button is the accent itself when it stands out from the white email
    (3:1, WCAG's bar for controls); a pale accent such as "ffdd00" (1.4:1)
    falls back to its darkened shade ("7f6e00"). The text on it is black or
    white, whichever contrasts more (always at least 4.5:1). Without an
    accent, the emails' dark ink.
    """
    if not accent:
        return {"button": f"#{EMAIL_INK}", "button_text": "#ffffff", "link": f"#{EMAIL_INK}"}
    colours = theme_colours(accent)
    background = accent if contrast(accent, "ffffff") >= 3 else colours["ink"]
    text = "000000" if contrast(background, "000000") >= contrast(background, "ffffff") else "ffffff"
    return {"button": f"#{background}", "button_text": f"#{text}", "link": f"#{colours['ink']}"}

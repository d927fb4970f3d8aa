"""The app's Jinja templates: autoescaped, with gettext, ``asset()`` for static URLs and ``admin_menu()``."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from slotwise.assets import TEMPLATES_DIR
from slotwise.i18n import configure_jinja
from slotwise.web.back_office.navigation import menu as admin_menu
from slotwise.web.static import asset_url


def template_config() -> TemplateConfig:
    """Jinja templates from ``templates/``, autoescaped, with gettext and ``asset()``."""

    def configure(engine: JinjaTemplateEngine) -> None:
        configure_jinja(engine.engine)
        engine.engine.globals["asset"] = asset_url
        engine.engine.globals["admin_menu"] = admin_menu  # the back office's layout draws its nav from it
        # Block tags leave no blank lines behind: smaller pages, same markup.
        engine.engine.trim_blocks = True
        engine.engine.lstrip_blocks = True

    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure
    )

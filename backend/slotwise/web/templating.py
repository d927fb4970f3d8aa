"""The app's Jinja templates: autoescaped, with gettext and ``asset()`` for static URLs."""

from __future__ import annotations

from pathlib import Path

from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

import slotwise
from slotwise.i18n import configure_jinja
from slotwise.web.static import asset_url

REPO_ROOT = Path(slotwise.__file__).resolve().parents[2]
TEMPLATES_DIR = REPO_ROOT / "templates"


def template_config() -> TemplateConfig:
    """Jinja templates from the repository's ``templates/``, autoescaped, with gettext and ``asset()``."""

    def configure(engine: JinjaTemplateEngine) -> None:
        configure_jinja(engine.engine)
        engine.engine.globals["asset"] = asset_url
        # Block tags leave no blank lines behind: smaller pages, same markup.
        engine.engine.trim_blocks = True
        engine.engine.lstrip_blocks = True

    return TemplateConfig(
        directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=configure
    )

"""The web pages' part of the composition root: the account store and the pages at ``/app`` on the main
origin (web/app.py), over the rules' public functions."""
from __future__ import annotations

from typing import Callable

from starlette.routing import Mount

from rules.core import Rules
from web.accounts import Accounts, open_account_store
from web.app import create_app

from .config import Settings

PREFIX = "/app"


class WebPart:
    def __init__(self, settings: Settings, rules: Rules, secret: Callable[[str], bytes]):
        """``secret``: the LRS store's named keys (the pages sign CSRF tokens and learner links with theirs)."""
        self.store = open_account_store(settings.data_dir, settings.mongodb_url)
        self.accounts = Accounts(self.store, session_seconds=settings.web_session_seconds)
        self.app = create_app(rules, self.accounts, secret, prefix=PREFIX, base_url=settings.main_url,
                              link_seconds=settings.web_learner_link_seconds,
                              learner_session_seconds=settings.web_learner_session_seconds)
        self.mount = Mount(PREFIX, app=self.app)

    def close(self) -> None:
        self.store.close()

"""An unexpected failure behind a page gives an HTML error page that says what to do: no stack trace,
no exception text."""
from __future__ import annotations

from starlette.testclient import TestClient

from web.accounts import Accounts, open_account_store
from web.app import create_app


class BrokenRules:
    def people(self, after, limit):
        raise RuntimeError("secret internals: /var/lib/db password=hunter2")


def test_an_internal_failure_shows_a_page_without_a_stack_trace(tmp_path):
    store = open_account_store(tmp_path)
    accounts = Accounts(store)
    accounts.create("zoe", "admin", "a long enough password")
    app = create_app(BrokenRules(), accounts, lambda name: b"k" * 32, prefix="")
    client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
    page = client.get("/sign-in")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    assert client.post("/sign-in", data={"csrf": token, "username": "zoe", "password": "a long enough password"},
                       follow_redirects=False).status_code == 303
    resp = client.get("/people")
    assert resp.status_code == 500 and resp.headers["content-type"].startswith("text/html")
    assert "What to do" in resp.text and "Try again" in resp.text
    assert "Traceback" not in resp.text and "hunter2" not in resp.text and "RuntimeError" not in resp.text
    store.close()

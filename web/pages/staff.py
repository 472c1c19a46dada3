"""Staff accounts (admin only): list, create, disable, enable, set a password."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..site import PageError, Site


def routes(site: Site) -> list[Route]:
    accounts = site.accounts

    async def accounts_page(request: Request, notice: str = "", status: int = 200) -> Response:
        await site.need(request, "admin")
        return site.render(request, "accounts.html", status, accounts=await run_in_threadpool(accounts.list),
                           notice=notice)

    async def create_account(request: Request) -> Response:
        _, data = await site.act(request, "admin")
        a = await run_in_threadpool(accounts.create, data.get("username", ""), data.get("role", ""),
                                    data.get("password", ""), data.get("person_id", "").strip() or None)
        return await accounts_page(request, f"Account {a.username} ({a.role}) created.")

    async def change_account(request: Request) -> Response:
        account, data = await site.act(request, "admin")
        name, what = request.path_params["name"], request.path_params["what"]
        if what == "disable" and name == account.username:
            raise PageError(400, "You cannot disable your own account.", "Ask another admin to do it.")
        if what in ("disable", "enable"):
            await run_in_threadpool(accounts.disable, name, what == "disable")
        elif what == "password":
            await run_in_threadpool(accounts.set_password, name, data.get("password", ""))
        else:
            raise PageError(404, "There is no such account action.", "Use the buttons on the accounts page.")
        return await accounts_page(request, f"Account {name}: {what} done.")

    return [Route("/accounts", accounts_page), Route("/accounts", create_account, methods=["POST"]),
            Route("/accounts/{name}/{what}", change_account, methods=["POST"])]

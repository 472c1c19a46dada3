"""Agent identity: the key an Agent or identified Group is stored and matched by."""
from __future__ import annotations

IFIS = ("mbox", "mbox_sha1sum", "openid", "account")


def agent_key(agent: dict) -> str | None:
    """The Inverse Functional Identifier of an Agent or Group as one string, or None (anonymous Group)."""
    if "mbox" in agent:
        return "mbox:" + agent["mbox"]
    if "mbox_sha1sum" in agent:
        return "sha1:" + agent["mbox_sha1sum"].lower()
    if "openid" in agent:
        return "openid:" + agent["openid"]
    account = agent.get("account")
    if account:
        return f"account:{account['homePage']}|{account['name']}"
    return None


def ifi_only(agent: dict) -> dict:
    """The Agent or Group reduced to objectType and its IFI (format=ids)."""
    out = {"objectType": agent.get("objectType", "Agent")}
    for key in IFIS:
        if key in agent:
            out[key] = agent[key]
            return out
    if "member" in agent:
        out["member"] = [ifi_only(m) for m in agent["member"]]
    return out

"""Settings, read once from environment variables that all start with ``LRS_``.

Every setting is listed here with its default; the README and ``lrs --help``
print this same table (``describe()``), so the three never disagree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./var")
    mongodb_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    content_port: int = 0
    content_origin: str = ""
    max_request_bytes: int = 50 * 1024 * 1024
    max_batch_statements: int = 1000
    max_query_limit: int = 100
    max_iri_length: int = 4096
    max_string_length: int = 1024 * 1024
    read_timeout_seconds: float = 10.0
    log_json: bool = False
    log_level: str = "info"
    package_max_upload_bytes: int = 1024 * 1024 * 1024
    package_max_uncompressed_bytes: int = 2048 * 1024 * 1024
    package_max_files: int = 5000
    package_max_ratio: int = 200
    max_header_bytes: int = 32 * 1024
    max_inflight_body_bytes: int = 256 * 1024 * 1024
    max_connections: int = 1000
    header_timeout_seconds: float = 10.0
    keepalive_timeout_seconds: float = 5.0
    body_timeout_seconds: float = 120.0
    shutdown_timeout_seconds: float = 10.0
    alternate_auth_prefix_bytes: int = 64 * 1024
    auth_max_concurrent_checks: int = 2
    auth_max_failures_per_key: int = 20
    auth_max_failures_per_address: int = 100
    auth_failure_window_seconds: int = 60
    launch_token_seconds: int = 300
    player_session_seconds: int = 8 * 3600
    cmi5_session_timeout_seconds: int = 1800
    cmi5_sweep_seconds: float = 60.0
    activity_iri_base: str = ""
    scorm_again_dir: str = ""
    # -- rules (issue 11) --
    rules_engine: bool = True
    rules_engine_interval_seconds: float = 0.2
    rules_lease_seconds: float = 30.0
    rules_reminder_days: str = "90,30,7"
    rules_escalation_days: int = 7
    rules_webhook_timeout_seconds: float = 5.0
    rules_webhook_retry_seconds: float = 30.0
    rules_webhook_max_attempts: int = 8
    rules_delivery_interval_seconds: float = 5.0
    # -- web pages (issue 15) --
    web_session_seconds: int = 8 * 3600
    web_learner_link_seconds: int = 7 * 86400
    web_learner_session_seconds: int = 8 * 3600

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get("LRS_" + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def __post_init__(self):
        if not self.content_port:  # the default: the port after the main one
            object.__setattr__(self, "content_port", self.port + 1)
        if self.content_port == self.port:
            raise ValueError(f"LRS_CONTENT_PORT ({self.content_port}) must differ from LRS_PORT: course files "
                             "and the learner's player are served on an origin of their own")
        if self.content_origin:
            object.__setattr__(self, "content_origin", _check_origin(self.content_origin, "LRS_CONTENT_ORIGIN"))

    @property
    def main_url(self) -> str:
        """The main origin's base URL: ``public_url``, else http://HOST:PORT."""
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"

    @property
    def content_url(self) -> str:
        """The content origin as browsers reach it: ``content_origin``; else the public URL's scheme and
        host with the content port; else http://HOST:CONTENT_PORT."""
        if self.content_origin:
            return self.content_origin
        if self.public_url:
            parts = urlsplit(self.public_url)
            if parts.hostname:
                host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
                return f"{parts.scheme.lower()}://{host}:{self.content_port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.content_port}"


HELP = {
    "data_dir": "folder that holds the embedded store and uploaded content",
    "mongodb_url": "MongoDB connection URL (mongodb://host/db); when set the LRS keeps its data there, "
                   "not in the embedded store",
    "host": "address `lrs serve` listens on",
    "port": "port `lrs serve` listens on",
    "public_url": "base URL of this service as clients reach it (shown on first run); default http://HOST:PORT",
    "content_port": "second port `lrs serve` listens on: the content origin, which serves course files and the "
                    "learner's player pages (default: LRS_PORT + 1)",
    "content_origin": "the content origin's URL as browsers reach it (scheme://host[:port], no path); launch "
                      "links point there. Default: LRS_PUBLIC_URL's scheme and host with LRS_CONTENT_PORT, else "
                      "http://HOST:CONTENT_PORT",
    "max_request_bytes": "largest request body accepted; larger gets 413",
    "max_batch_statements": "most statements in one POST; more gets 413",
    "max_query_limit": "most statements one GET returns per page",
    "max_iri_length": "most characters in an IRI or identifier (activity, verb and extension IRIs, mbox, "
                      "account name, language tag, stateId/profileId); longer gets 400",
    "max_string_length": "most characters in any other string of a statement or parameter; longer gets 400",
    "read_timeout_seconds": "longest a store read may take, waiting for a connection included; "
                            "past it the request gets 503 with Retry-After",
    "log_json": "write logs as JSON lines (true/false)",
    "log_level": "debug, info, warning or error",
    "package_max_upload_bytes": "largest package zip accepted; larger gets 413",
    "package_max_uncompressed_bytes": "most bytes a package's files may add up to once extracted",
    "package_max_files": "most entries a package zip may hold",
    "package_max_ratio": "most a package may expand when unzipped: all its files together once they add up "
                         "to more than 1 MiB, and each file over 1 MiB (zip bomb guard)",
    "max_header_bytes": "largest request line plus headers; larger gets 431 and the connection is closed",
    "max_inflight_body_bytes": "most request body bytes being read at once per process; a request that would go "
                               "over gets 503 with Retry-After before its body is read (one is always admitted)",
    "max_connections": "most open connections per process; one more gets 503 and is closed",
    "header_timeout_seconds": "a connection must send complete request headers within this time, else it is "
                              "closed (408 if it started a request)",
    "keepalive_timeout_seconds": "an idle keep-alive connection is closed after this time",
    "body_timeout_seconds": "a request body must arrive within this time after its headers, else 408",
    "shutdown_timeout_seconds": "on SIGTERM, how long requests in flight may take to finish",
    "alternate_auth_prefix_bytes": "alternate-syntax requests without an Authorization header: how much of the "
                                   "form is read to find its Authorization field before authenticating",
    "auth_max_concurrent_checks": "most secret checks (scrypt) running at once",
    "auth_max_failures_per_key": "failed authentications per key within the failure window; more get 429",
    "auth_max_failures_per_address": "failed authentications per client address within the failure window; "
                                     "more get 429",
    "auth_failure_window_seconds": "the sliding window failed authentications are counted over",
    "launch_token_seconds": "how long a launch link works after it is made (it opens once)",
    "scorm_again_dir": "the folder of scorm-again's browser builds (its dist folder) that the player serves; "
                       "default: node_modules/scorm-again/dist in the project folder, where npm ci puts it",
    "cmi5_session_timeout_seconds": "a cmi5 or TinCan session idle this long is over: its token stops working "
                                    "and a cmi5 session without terminated gets an abandoned statement",
    "cmi5_sweep_seconds": "how often lrs serve looks for idle cmi5 sessions to abandon",
    "player_session_seconds": "how long a learner's player session (the lrs_player cookie) lasts after "
                              "opening a launch link",
    "activity_iri_base": "base of the activity IRIs the player's statements use ({base}/courses/{course id}/...) "
                         "and the home page of the player's authority account; default LRS_PUBLIC_URL "
                         "(else http://HOST:PORT)",
    # -- rules (issue 11) --
    "rules_engine": "lrs serve runs the rules engine and its webhook deliveries in a child process of its own "
                    "(lrs rules run; one whatever --workers says; it stops with the server, and when the server "
                    "dies); false: none (run lrs rules run elsewhere). The engine takes a lease, so one process "
                    "at a time does the work whatever this says",
    "rules_engine_interval_seconds": "pause of the rules engine when it has caught up with the statement stream",
    "rules_lease_seconds": "how long the rules engine's lease lasts unless renewed; another process takes over "
                           "after it",
    "rules_reminder_days": "days before a certification's expiry day when the person is reminded (comma list; "
                           "empty: none), unless its definition says otherwise (reminders.before_expiry_days)",
    "rules_escalation_days": "days after a certification became overdue when the person's supervisor is told "
                             "(-1: never), unless its definition says otherwise (reminders.escalate_after_days)",
    "rules_webhook_timeout_seconds": "how long a webhook endpoint has to answer a reminder before the attempt "
                                     "counts as failed",
    "rules_webhook_retry_seconds": "wait before the first retry of a failed reminder delivery; doubled at each "
                                   "further retry (at most 6 hours)",
    "rules_webhook_max_attempts": "attempts of one reminder delivery before it is given up (listed as failed)",
    "rules_delivery_interval_seconds": "how often the process that runs the rules engine sends the reminder "
                                       "deliveries that are due",
    "web_session_seconds": "how long a staff sign-in session of the web pages (/app) lasts",
    "web_learner_link_seconds": "how long a learner's sign-in link to their web page stays valid",
    "web_learner_session_seconds": "how long a learner's web page session lasts after opening their link",
}


def scorm_again_dir(settings: Settings) -> Path:
    """LRS_SCORM_AGAIN_DIR, or where ``npm ci`` puts scorm-again's browser builds in the project folder."""
    if settings.scorm_again_dir:
        return Path(settings.scorm_again_dir)
    from player.runtime_http import default_scorm_again_dir

    return default_scorm_again_dir()


def reminder_days(settings: Settings) -> tuple[int, ...]:
    """LRS_RULES_REMINDER_DAYS as whole days (ValueError naming the setting when it is not a comma list of them)."""
    try:
        days = tuple(int(x) for x in settings.rules_reminder_days.replace(" ", "").split(",") if x)
    except ValueError:
        raise ValueError(f"LRS_RULES_REMINDER_DAYS is a comma list of whole days, not {settings.rules_reminder_days!r}") from None
    if any(d < 1 or d > 3650 for d in days):
        raise ValueError("LRS_RULES_REMINDER_DAYS: each offset is from 1 to 3650 days")
    return days


def activity_iri_base(settings: Settings) -> str:
    """LRS_ACTIVITY_IRI_BASE, or the main origin's public URL when it is not set."""
    return (settings.activity_iri_base or settings.main_url).rstrip("/")


DEFAULT_TEXT = {"content_port": "LRS_PORT + 1"}  # defaults that depend on another setting


def describe(only: tuple[str, ...] | None = None) -> str:
    """The settings table as text, for ``--help``: all of them, or those named in ``only`` (a name
    ending in ``*`` stands for every setting it starts)."""
    lines = ["environment variables (default):"]
    for f in fields(Settings):
        if only is None or any(f.name == n or (n.endswith("*") and f.name.startswith(n[:-1])) for n in only):
            lines.append(f"  LRS_{f.name.upper():<32} {HELP[f.name]} ({DEFAULT_TEXT.get(f.name, f.default)})")
    return "\n".join(lines)


def _check_origin(url: str, name: str) -> str:
    """``url`` as an origin (scheme://host[:port], lower-case scheme and host), or ValueError."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{name} must be an origin: http(s)://host[:port] with no path, not {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{name} has an invalid port: {url!r}") from None
    scheme = parts.scheme.lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    default = {"http": 80, "https": 443}[scheme]  # as browsers write an Origin: no default port
    return f"{scheme}://{host}" + (f":{port}" if port not in (None, default) else "")


def _parse(kind, raw: str, name: str):
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"LRS_{name.upper()} must be true or false, not {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"LRS_{name.upper()} must be an integer, not {raw!r}") from None
    if kind == "float":
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            raise ValueError(f"LRS_{name.upper()} must be a positive number, not {raw!r}")
        return value
    if kind == "Path":
        return Path(raw)
    return raw

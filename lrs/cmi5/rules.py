"""The cmi5 rules the LRS enforces on the statements of an AU session (cmi5 spec 9.x; every refusal
names the requirement). Pure: ``check`` takes a statement as the client sent it (already valid xAPI),
the session and what the AU has reached in its registration, and answers the session and AU state
after it, or raises ``Rejected`` (403, as the spec's LMS obligations and ADL's CATAPULT expect)."""
from __future__ import annotations

import re
from decimal import Decimal

from ..statements.terms import agent_term

ADL = "http://adlnet.gov/expapi/verbs/"
INITIALIZED, COMPLETED, PASSED, FAILED, TERMINATED = (ADL + v for v in
                                                      ("initialized", "completed", "passed", "failed", "terminated"))
LAUNCHED = ADL + "launched"
VOIDED = ADL + "voided"
ABANDONED = "https://w3id.org/xapi/adl/verbs/abandoned"
WAIVED = "https://w3id.org/xapi/adl/verbs/waived"
SATISFIED = "https://w3id.org/xapi/adl/verbs/satisfied"
DEFINED = (INITIALIZED, COMPLETED, PASSED, FAILED, TERMINATED)
MOVEON_VERBS = (COMPLETED, PASSED, FAILED)
CAT_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CAT_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT = "https://w3id.org/xapi/cmi5/context/extensions/"
EXT_SESSION = EXT + "sessionid"
EXT_MASTERY = EXT + "masteryscore"
EXT_LAUNCHMODE = EXT + "launchmode"
EXT_LAUNCHURL = EXT + "launchurl"
EXT_MOVEON = EXT + "moveon"
EXT_LAUNCHPARAMS = EXT + "launchparameters"
EXT_REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
UTC_TIMESTAMP = re.compile(r".*(Z|[+-]00:?00)$")


class Rejected(Exception):
    def __init__(self, message: str, path: str | None = None, status: int = 403):
        super().__init__(message)
        self.message, self.path, self.status = message, path, status


def _actor_key(actor) -> str | None:
    if not isinstance(actor, dict) or actor.get("objectType", "Agent") != "Agent":
        return None
    try:
        return agent_term(actor)
    except (KeyError, TypeError, AttributeError):
        return None


def _ids(items) -> list[str]:
    if isinstance(items, dict):
        items = [items]
    return [a.get("id") for a in items or [] if isinstance(a, dict)]


def check(st: dict, session: dict, au: dict, path: str = "", had_id: bool = True) -> tuple[dict, dict]:
    """(session after, au state after) for statement ``st`` of ``session`` (fields: state, verbs,
    activity_id, actor_key, registration, mastery_score, launch_mode, prefs_read) whose AU
    has reached ``au`` (completed, passed, failed) in the registration; Rejected when the spec forbids it."""
    p = (path + ".") if path else ""
    verb = st["verb"]["id"]
    if session["state"] == "terminated":
        raise Rejected(f"session {session['id']} has terminated: no statement may follow terminated (cmi5 9.3.8)")
    if session["state"] == "abandoned":
        raise Rejected(f"session {session['id']} was abandoned: it takes no more statements (cmi5 9.3.6)")
    if not had_id:
        raise Rejected("a cmi5 statement must carry its id (cmi5 9.1)", p + "id")
    if not isinstance(st.get("timestamp"), str):
        raise Rejected("a cmi5 statement must carry a timestamp (cmi5 9.7)", p + "timestamp")
    if not UTC_TIMESTAMP.match(st["timestamp"]):
        raise Rejected("a cmi5 statement's timestamp must be in UTC (cmi5 9.7)", p + "timestamp")
    if _actor_key(st.get("actor")) != session["actor_key"]:
        raise Rejected("the actor must be the Agent of the launch (cmi5 9.2)", p + "actor")
    ctx = st.get("context")
    if not isinstance(ctx, dict):
        raise Rejected("a cmi5 statement needs a context (cmi5 9.6)", p + "context")
    if str(ctx.get("registration", "")).lower() != session["registration"]:
        raise Rejected("context.registration must be the launch's registration (cmi5 9.6.1)", p + "context.registration")
    ext = ctx.get("extensions") or {}
    if ext.get(EXT_SESSION) != session["id"]:
        raise Rejected("context.extensions must carry the session id of the launch (cmi5 9.6.3.1)",
                       p + "context.extensions")
    cats = _ids((ctx.get("contextActivities") or {}).get("category"))
    # cmi5 defined statements are the ones in the cmi5 category; any other is "cmi5 allowed", whatever
    # its verb (7.1.3): a video player's own initialized or terminated about the video is recorded and
    # plays no part in the session's rules
    defined = CAT_CMI5 in cats and verb in DEFINED
    verbs = list(session.get("verbs", []))
    if session["state"] == "launched" and not (defined and verb == INITIALIZED):
        raise Rejected("the first statement of a session must be the cmi5 defined initialized (cmi5 9.3.2, 7.1.3)",
                       p + "verb.id")
    if verb == VOIDED:
        raise Rejected("an AU may not void statements (cmi5 6.3)", p + "verb.id")
    if CAT_MOVEON in cats and not (defined and verb in MOVEON_VERBS):
        raise Rejected("only cmi5 defined completed, passed and failed statements carry the moveon category "
                       "(cmi5 9.6.2.2)", p + "context.contextActivities.category")
    if not defined:
        return {**session, "last_verb": verb}, au
    if st["object"].get("id") != session["activity_id"]:
        raise Rejected("the object of a cmi5 defined statement must be the AU's activityId (cmi5 8.1.5)", p + "object.id")
    result = st.get("result") if isinstance(st.get("result"), dict) else None
    au = dict(au)
    session = {**session, "verbs": verbs}
    if verb == INITIALIZED:
        if session["state"] != "launched":
            raise Rejected("initialized may be sent once per session (cmi5 9.3.2)", p + "verb.id")
        if not session.get("prefs_read"):
            raise Rejected("the AU must retrieve the learner preferences before initialized (cmi5 11.0)", p + "verb.id")
        session["state"] = "initialized"
    elif verb == TERMINATED:
        if not result or not result.get("duration"):
            raise Rejected("terminated needs result.duration (cmi5 9.5.4.1)", p + "result.duration")
        session["state"] = "terminated"
    else:
        if session.get("launch_mode", "Normal") != "Normal":
            raise Rejected(f"in launchMode {session['launch_mode']} no completed, passed or failed statement is "
                           "recorded (cmi5 10.2.2)", p + "verb.id")
        if CAT_MOVEON not in cats:
            raise Rejected("completed, passed and failed statements need the moveon category (cmi5 9.6.2.2)",
                           p + "context.contextActivities.category")
        if not result or not result.get("duration"):
            raise Rejected("completed, passed and failed need result.duration (cmi5 9.5.4.1)", p + "result.duration")
        if verb == COMPLETED:
            _completed(result, au, verbs, p)
            au["completed"] = True
        else:
            _judged(verb, result, ext, session, au, verbs, p)
            au["passed" if verb == PASSED else "failed"] = True
    verbs.append(verb)
    return session, au


def _completed(result: dict, au: dict, verbs: list, p: str) -> None:
    if COMPLETED in verbs or au.get("completed"):
        raise Rejected("completed may be sent once per registration (cmi5 9.3.3)", p + "verb.id")
    if result.get("completion") is not True:
        raise Rejected("completed needs result.completion true (cmi5 9.5.3)", p + "result.completion")
    if "success" in result:
        raise Rejected("completed must not carry result.success (cmi5 9.5.2)", p + "result.success")
    if "score" in result:
        raise Rejected("completed must not carry a score (cmi5 9.5.1)", p + "result.score")


def _judged(verb: str, result: dict, ext: dict, session: dict, au: dict, verbs: list, p: str) -> None:
    name = "passed" if verb == PASSED else "failed"
    if PASSED in verbs or FAILED in verbs:
        raise Rejected("only one of passed and failed may be sent per session (cmi5 9.3)", p + "verb.id")
    if au.get("passed"):
        raise Rejected(f"{name} after passed in the registration (cmi5 9.3)", p + "verb.id")
    if result.get("success") is not (verb == PASSED):
        raise Rejected(f"{name} needs result.success {str(verb == PASSED).lower()} (cmi5 9.5.2)", p + "result.success")
    if "completion" in result:
        raise Rejected(f"{name} must not carry result.completion (cmi5 9.5.3)", p + "result.completion")
    score = result.get("score") if isinstance(result.get("score"), dict) else None
    if score and "raw" in score and ("min" not in score or "max" not in score):
        raise Rejected("a raw score needs min and max (cmi5 9.5.1)", p + "result.score")
    mastery = session.get("mastery_score")
    if mastery is not None:
        if (score or EXT_MASTERY in ext) and ext.get(EXT_MASTERY) != mastery:
            raise Rejected(f"{name} needs the masteryscore extension {mastery} of the launch (cmi5 9.6.3.2)",
                           p + "context.extensions")
        scaled = score.get("scaled") if score else None
        if scaled is not None:
            if verb == PASSED and Decimal(str(scaled)) < Decimal(str(mastery)):
                raise Rejected(f"passed with a scaled score below the mastery score {mastery} (cmi5 9.3.4)",
                               p + "result.score.scaled")
            if verb == FAILED and Decimal(str(scaled)) >= Decimal(str(mastery)):
                raise Rejected(f"failed with a scaled score at or above the mastery score {mastery} (cmi5 9.3.5)",
                               p + "result.score.scaled")


def au_satisfied(move_on: str, state: dict) -> bool:
    """cmi5 moveOn for one AU (waived meets any)."""
    if state.get("waived") or move_on == "NotApplicable":
        return True
    done, passed = bool(state.get("completed")), bool(state.get("passed"))
    return {"Passed": passed, "Completed": done, "CompletedAndPassed": done and passed,
            "CompletedOrPassed": done or passed}.get(move_on, False)

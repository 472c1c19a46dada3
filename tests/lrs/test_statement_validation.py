"""Statement validation (xAPI 1.0.3 Data, Part Two): every MUST the LRS enforces on a Statement.

Each invalid Statement must be answered 400 with ``{"error": {"status", "message", "path"}}`` where
``path`` names the bad property (DESIGN.md conventions), and nothing may be stored.
"""
from __future__ import annotations

import hashlib
import uuid

import pytest

from lrs_testkit import DELETE, error_of, make_statement, with_value

AGENT_B = {"objectType": "Agent", "mbox": "mailto:bob@example.com"}
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def sub_statement(**overrides) -> dict:
    sub = {"objectType": "SubStatement", "actor": {"mbox": "mailto:carol@example.com"},
           "verb": {"id": "http://example.com/verbs/will-attend"},
           "object": {"id": "http://example.com/meetings/kickoff"}}
    sub.update(overrides)
    return sub


def case(id_, path, value, error_path, marks=()):
    """An invalid Statement: ``make_statement()`` with ``path`` set to ``value``."""
    return pytest.param(path, value, error_path, id=id_, marks=marks)


def design_path(reason):
    return pytest.mark.xfail(reason=f"DESIGN.md: error path must name the bad property; {reason}", strict=True)


INVALID = [
    # -- Actor / Agent / Group: Data 2.4.2, Inverse Functional Identifier 2.4.2.3 --------------
    case("agent_without_ifi_2.4.2.1", "actor", {"objectType": "Agent", "name": "No IFI"}, "actor"),
    case("agent_with_two_ifis_2.4.2.3", "actor",
         {"mbox": "mailto:ada@example.com", "mbox_sha1sum": "a" * 40}, "actor"),
    case("agent_with_mbox_and_account_2.4.2.3", "actor",
         {"mbox": "mailto:ada@example.com", "account": {"homePage": "http://example.com", "name": "ada"}}, "actor"),
    case("mbox_without_mailto_scheme_2.4.2.3", "actor.mbox", "ada@example.com", "actor.mbox"),
    case("mbox_empty_string_2.2.s4.b1.b4", "actor.mbox", "", "actor.mbox"),
    case("mbox_with_other_scheme_2.4.2.3", "actor.mbox", "http://ada@example.com", "actor.mbox"),
    case("mbox_sha1sum_not_hex_2.4.2.3", "actor", {"mbox_sha1sum": "not-a-sha1"}, "actor.mbox_sha1sum"),
    case("openid_not_an_iri_2.4.2.3", "actor", {"openid": "not an iri"}, "actor.openid"),
    case("account_without_name_2.4.2.4", "actor", {"account": {"homePage": "http://example.com"}}, "actor.account"),
    case("account_without_homepage_2.4.2.4", "actor", {"account": {"name": "ada"}}, "actor.account"),
    case("account_homepage_not_iri_2.4.2.4", "actor",
         {"account": {"homePage": "example.com", "name": "ada"}}, "actor.account.homePage"),
    case("agent_objecttype_wrong_case_2.2.s4.b1.b6", "actor.objectType", "agent", "actor.objectType"),
    case("anonymous_group_without_member_2.4.2.2.s4", "actor", {"objectType": "Group", "name": "Team"}, "actor"),
    case("group_member_is_a_group_2.4.2.2.s3", "actor",
         {"objectType": "Group", "member": [{"objectType": "Group", "member": [AGENT_B]}]}, "actor.member[0]"),
    case("identified_group_member_is_a_group_2.4.2.2.s3", "actor",
         {"objectType": "Group", "mbox": "mailto:team@example.com",
          "member": [{"objectType": "Group", "mbox": "mailto:sub@example.com"}]}, "actor.member[0]"),
    case("group_member_without_ifi_2.4.2.2", "actor",
         {"objectType": "Group", "member": [{"name": "nobody"}]}, "actor.member[0]"),
    case("group_with_two_ifis_2.4.2.2.s5", "actor",
         {"objectType": "Group", "mbox": "mailto:t@example.com", "openid": "http://example.com/t"}, "actor"),
    case("agent_object_without_objecttype_2.4.4.2", "object", {"mbox": "mailto:bob@example.com"}, "object"),
    case("instructor_with_bad_mbox_2.4.6", "context.instructor", {"mbox": "bob@example.com"},
         "context.instructor.mbox"),
    case("team_is_an_agent_not_a_group_2.4.6", "context.team", {"mbox": "mailto:bob@example.com"}, "context.team"),
    # -- Verb: Data 2.4.3 ----------------------------------------------------------------------
    case("verb_id_not_an_iri_2.4.3.s4", "verb.id", "completed", "verb.id"),
    case("verb_id_with_spaces_2.2.s4.b1.b4", "verb.id", "http://example.com/has space", "verb.id"),
    case("verb_id_empty_2.2.s4.b1.b4", "verb.id", "", "verb.id"),
    case("verb_without_id_2.4.3", "verb.id", DELETE, "verb"),
    case("verb_display_bad_language_tag_2.2.s4.b2", "verb.display", {"en_US": "completed"}, "verb.display"),
    case("verb_display_value_not_a_string_2.2.s4.b1.b2", "verb.display", {"en-US": 5}, "verb.display"),
    # -- Object: Data 2.4.4 --------------------------------------------------------------------
    case("object_type_wrong_case_2.2.s4.b1.b6", "object.objectType", "activity", "object.objectType"),
    case("object_type_unknown_2.4.4", "object.objectType", "Course", "object.objectType"),
    case("activity_id_not_an_iri_2.4.4.1.s3", "object.id", "safety-101", "object.id"),
    case("activity_without_id_2.4.4.1", "object.id", DELETE, "object"),
    case("activity_definition_type_not_iri_2.4.4.1.s2", "object.definition.type", "course",
         "object.definition.type"),
    case("activity_definition_moreinfo_not_iri_2.4.4.1.s2", "object.definition.moreInfo", "no scheme",
         "object.definition.moreInfo"),
    case("interaction_type_wrong_case_2.4.4.1.s9", "object.definition.interactionType", "Choice",
         "object.definition.interactionType"),
    case("interaction_type_unknown_2.4.4.1.s9", "object.definition.interactionType", "essay",
         "object.definition.interactionType"),
    case("interaction_choice_ids_not_distinct_2.4.4.1.s16", "object.definition",
         {"interactionType": "choice", "choices": [{"id": "a", "description": {"en-US": "A"}},
                                                   {"id": "a", "description": {"en-US": "A again"}}]},
         "object.definition.choices"),
    case("interaction_scale_ids_not_distinct_2.4.4.1.s16", "object.definition",
         {"interactionType": "likert", "scale": [{"id": "1"}, {"id": "1"}]}, "object.definition.scale"),
    case("interaction_source_ids_not_distinct_2.4.4.1.s16", "object.definition",
         {"interactionType": "matching", "source": [{"id": "x"}, {"id": "x"}], "target": [{"id": "y"}]},
         "object.definition.source"),
    case("interaction_steps_ids_not_distinct_2.4.4.1.s16", "object.definition",
         {"interactionType": "performance", "steps": [{"id": "s"}, {"id": "s"}]}, "object.definition.steps"),
    case("correct_responses_pattern_not_strings_2.4.4.1.s8", "object.definition",
         {"interactionType": "true-false", "correctResponsesPattern": [True]},
         "object.definition.correctResponsesPattern"),
    case("statementref_id_not_uuid_2.4.4.3.s4", "object", {"objectType": "StatementRef", "id": "12345"},
         "object.id"),
    case("statementref_without_objecttype_is_not_a_statementref_2.4.4.3.s4", "object",
         {"id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"}, "object.id"),
    case("statementref_with_definition_2.2.s4.b1.b7", "object",
         {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0",
          "definition": {"name": {"en": "x"}}}, "object.definition"),
    # -- SubStatement: Data 2.4.4.3.s8 -------------------------------------------------------------
    case("substatement_with_id_2.4.4.3.s8.b3", "object", sub_statement(id="8f87ccde-bb56-4c2e-ab83-44982ef22df0"),
         "object.id"),
    case("substatement_with_stored_2.4.4.3.s8.b3", "object", sub_statement(stored="2024-01-01T00:00:00Z"),
         "object.stored"),
    case("substatement_with_version_2.4.4.3.s8.b3", "object", sub_statement(version="1.0.0"), "object.version"),
    case("substatement_with_authority_2.4.4.3.s8.b3", "object", sub_statement(authority=AGENT_B),
         "object.authority"),
    case("nested_substatement_2.4.4.3.s8.b4", "object", sub_statement(object=sub_statement()),
         "object.object.objectType"),
    case("substatement_without_verb_2.4.4.3.s8.b2", "object",
         {k: v for k, v in sub_statement().items() if k != "verb"}, "object"),
    case("substatement_invalid_actor_2.4.4.3.s8.b2", "object", sub_statement(actor={"mbox": "carol"}),
         "object.actor.mbox"),
    case("substatement_context_revision_with_agent_object_2.4.6.s4", "object",
         sub_statement(object=AGENT_B, context={"revision": "2"}), "object.context.revision"),
    # -- Result and Score: Data 2.4.5 ---------------------------------------------------------------
    case("score_scaled_above_1_2.4.5.1", "result.score.scaled", 1.01, "result.score.scaled"),
    case("score_scaled_below_minus_1_2.4.5.1", "result.score.scaled", -1.5, "result.score.scaled"),
    case("score_raw_above_max_2.4.5.1", "result.score.raw", 101, "result.score.raw"),
    case("score_raw_below_min_2.4.5.1", "result.score.raw", -1, "result.score.raw"),
    case("score_min_greater_than_max_2.4.5.1", "result.score", {"min": 10, "max": 5}, "result.score"),
    case("score_max_equal_to_min_2.4.5.1_max_must_be_greater", "result.score", {"min": 5, "max": 5},
         "result.score"),
    case("score_raw_is_a_string_2.2.s4.b1.b2", "result.score.raw", "90", "result.score.raw"),
    case("score_scaled_is_a_string_2.2.s4.b1.b2", "result.score.scaled", "0.9", "result.score.scaled"),
    case("success_is_a_string_2.2.s4.b1.b3", "result.success", "true", "result.success"),
    case("completion_is_a_number_2.2.s4.b1.b3", "result.completion", 1, "result.completion"),
    case("response_is_a_number_2.4.5", "result.response", 42, "result.response"),
    case("duration_free_text_4.6", "result.duration", "1 hour", "result.duration"),
    case("duration_without_designators_4.6", "result.duration", "P", "result.duration"),
    case("duration_time_without_t_4.6", "result.duration", "P1H", "result.duration"),
    case("duration_missing_unit_4.6", "result.duration", "PT1H30", "result.duration"),
    case("result_extension_key_not_iri_4.1.s3", "result.extensions", {"score-detail": 1}, "result.extensions"),
    # -- Context: Data 2.4.6 -------------------------------------------------------------------------
    case("context_revision_with_agent_object_2.4.6.s4.b1", "object", AGENT_B, "context.revision", ),
    case("context_registration_not_uuid_2.4.6", "context.registration", "reg-1", "context.registration"),
    case("context_language_bad_tag_2.4.6", "context.language", "english!", "context.language"),
    case("context_statement_not_a_statementref_2.4.6", "context.statement",
         {"objectType": "Activity", "id": "http://example.com/a"}, "context.statement"),
    case("context_activities_unknown_key_2.4.6.2.s4.b1", "context.contextActivities.sibling",
         [{"id": "http://example.com/x"}], "context.contextActivities.sibling"),
    case("context_activities_key_wrong_case_2.4.6.2.s4.b1", "context.contextActivities.Parent",
         [{"id": "http://example.com/x"}], "context.contextActivities.Parent"),
    case("context_activities_value_not_activity_2.4.6.2.s4.b2", "context.contextActivities.parent",
         "http://example.com/x", "context.contextActivities.parent"),
    case("context_activities_item_without_id_2.4.6.2.s4.b2", "context.contextActivities.category",
         [{"definition": {"name": {"en": "x"}}}], "context.contextActivities.category[0]"),
    case("context_extension_key_not_iri_4.1.s3", "context.extensions", {"shift": "night"}, "context.extensions"),
    case("context_agents_under_1.0.3_2.2.s4.b1.b7", "context.contextAgents",
         [{"objectType": "contextAgent", "agent": AGENT_B}], "context.contextAgents"),
    case("context_groups_under_1.0.3_2.2.s4.b1.b7", "context.contextGroups",
         [{"objectType": "contextGroup", "group": {"objectType": "Group", "mbox": "mailto:t@example.com"}}],
         "context.contextGroups"),
    # -- Language maps: Data 2.2.s4.b2 -------------------------------------------------------------
    case("activity_name_bad_language_tag_2.2.s4.b2", "object.definition.name", {"en--US": "Safety"},
         "object.definition.name"),
    case("activity_description_underscore_tag_2.2.s4.b2", "object.definition.description", {"en_GB": "x"},
         "object.definition.description"),
    case("language_map_is_a_string_5.2", "object.definition.name", "Safety 101", "object.definition.name"),
    # -- Extensions ----------------------------------------------------------------------------------
    case("activity_extension_key_not_iri_4.1.s3", "object.definition.extensions", {"level": 2},
         "object.definition.extensions"),
    case("extensions_is_an_array_4.1", "context.extensions", [1, 2], "context.extensions"),
    # -- Nulls outside extensions: Data 2.2.s4.b1.b1 -----------------------------------------------
    case("null_result_success_2.2.s4.b1.b1", "result.success", None, "result.success"),
    case("null_actor_name_2.2.s4.b1.b1", "actor.name", None, "actor.name"),
    case("null_verb_display_value_2.2.s4.b1.b1", "verb.display.en-US", None, "verb.display"),
    case("null_context_registration_2.2.s4.b1.b1", "context.registration", None, "context.registration"),
    case("null_result_2.2.s4.b1.b1", "result", None, "result"),
    case("null_timestamp_2.2.s4.b1.b1", "timestamp", None, "timestamp"),
    case("null_object_definition_2.2.s4.b1.b1", "object.definition", None, "object.definition"),
    case("null_score_raw_2.2.s4.b1.b1", "result.score.raw", None, "result.score.raw"),
    # -- Wrong types ----------------------------------------------------------------------------------
    case("actor_is_a_string_2.2.s4.b1.b2", "actor", "mailto:ada@example.com", "actor"),
    case("verb_is_a_string_2.2.s4.b1.b2", "verb", "http://adlnet.gov/expapi/verbs/completed", "verb"),
    case("object_is_an_array_2.2.s4.b1.b2", "object", [{"id": "http://example.com/a"}], "object"),
    case("context_activities_is_an_array_2.2.s4.b1.b2", "context.contextActivities",
         [{"id": "http://example.com/a"}], "context.contextActivities"),
    # -- Additional properties and case of keys: Data 2.2.s4.b1.b5, b7 -------------------------------
    case("additional_property_on_actor_2.2.s4.b1.b7", "actor.age", 36, "actor.age"),
    case("additional_property_on_verb_2.2.s4.b1.b7", "verb.label", "x", "verb.label"),
    case("additional_property_on_result_2.2.s4.b1.b7", "result.grade", "A", "result.grade"),
    case("additional_property_on_score_2.2.s4.b1.b7", "result.score.percent", 90, "result.score.percent"),
    case("additional_property_on_context_2.2.s4.b1.b7", "context.location", "Berlin", "context.location"),
    case("additional_property_on_definition_2.2.s4.b1.b7", "object.definition.level", 2,
         "object.definition.level"),
    case("key_wrong_case_in_result_2.2.s4.b1.b5", "result.Success", True, "result.Success"),
    # -- Statement id, version, timestamps: Data 2.4.1, 2.4.7, 2.4.8, 2.4.10 -------------------------
    case("id_not_uuid_2.4.1", "id", "not-a-uuid", "id"),
    case("id_not_a_string_2.2.s4.b1.b2", "id", 12345, "id"),
    case("version_2.0.0_under_1.0.3_2.4.10.s3.b2", "version", "2.0.0", "version"),
    case("version_1.1.0_2.4.10.s3.b2", "version", "1.1.0", "version"),
    case("version_0.95_2.4.10.s3.b2", "version", "0.95", "version"),
    case("version_free_text_2.4.10.s3.b2", "version", "one", "version"),
    case("timestamp_month_13_4.5", "timestamp", "2024-13-01T10:00:00Z", "timestamp"),
    case("timestamp_february_30_4.5", "timestamp", "2024-02-30T10:00:00Z", "timestamp"),
    case("timestamp_free_text_4.5", "timestamp", "yesterday", "timestamp"),
    case("timestamp_date_only_4.5", "timestamp", "2024-03-01", "timestamp"),
    case("timestamp_hour_25_4.5", "timestamp", "2024-03-01T25:00:00Z", "timestamp"),
    case("timestamp_negative_zero_offset_4.5", "timestamp", "2024-03-01T10:00:00-00:00", "timestamp"),
    case("stored_malformed_2.4.8", "stored", "last tuesday", "stored"),
    case("substatement_timestamp_malformed_4.5", "object", sub_statement(timestamp="2024-02-31T00:00:00Z"),
         "object.timestamp"),
    # -- Voiding: Data 2.3.2 ---------------------------------------------------------------------------
    case("voiding_statement_object_is_an_activity_2.3.2.s2", "verb", {"id": VOIDED}, "object"),
    # -- Attachments: Data 2.4.11 ----------------------------------------------------------------------
    case("attachment_usage_type_not_iri_2.4.11", "attachments",
         [{"usageType": "signature", "display": {"en": "x"}, "contentType": "text/plain", "length": 1,
           "sha2": hashlib.sha256(b"x").hexdigest(), "fileUrl": "http://example.com/x"}],
         "attachments[0].usageType"),
    case("attachment_without_sha2_2.4.11", "attachments",
         [{"usageType": "http://example.com/u", "display": {"en": "x"}, "contentType": "text/plain", "length": 1,
           "fileUrl": "http://example.com/x"}], "attachments[0]"),
    case("attachment_without_display_2.4.11", "attachments",
         [{"usageType": "http://example.com/u", "contentType": "text/plain", "length": 1,
           "sha2": hashlib.sha256(b"x").hexdigest(), "fileUrl": "http://example.com/x"}], "attachments[0]"),
    case("attachment_without_content_type_2.4.11", "attachments",
         [{"usageType": "http://example.com/u", "display": {"en": "x"}, "length": 1,
           "sha2": hashlib.sha256(b"x").hexdigest(), "fileUrl": "http://example.com/x"}], "attachments[0]"),
    case("attachment_without_length_2.4.11", "attachments",
         [{"usageType": "http://example.com/u", "display": {"en": "x"}, "contentType": "text/plain",
           "sha2": hashlib.sha256(b"x").hexdigest(), "fileUrl": "http://example.com/x"}], "attachments[0]"),
    case("attachment_file_url_not_iri_2.4.11", "attachments",
         [{"usageType": "http://example.com/u", "display": {"en": "x"}, "contentType": "text/plain", "length": 1,
           "sha2": hashlib.sha256(b"x").hexdigest(), "fileUrl": "cert.pdf"}], "attachments[0].fileUrl"),
    case("attachment_length_is_a_string_2.4.11", "attachments",
         [{"usageType": "http://example.com/u", "display": {"en": "x"}, "contentType": "text/plain", "length": "1",
           "sha2": hashlib.sha256(b"x").hexdigest(), "fileUrl": "http://example.com/x"}], "attachments[0].length"),
]


@pytest.fixture
def client(shared_client):
    """Validation tests only add Statements with fresh ids: one store for the module keeps them fast."""
    return shared_client


def _path_matches(err: dict, expected: str) -> bool:
    """The error path names the bad property: exactly, or something inside it, or (for a property that is
    not allowed) its parent object with the property's name in the message."""
    got = err.get("path")
    if got is None:
        return False
    if got == expected or (got.startswith(expected) and got[len(expected)] in ".["):
        return True
    leaf = expected.rsplit(".", 1)[-1]
    return expected.startswith(got + ".") and "." not in expected[len(got) + 1:] and repr(leaf) in err["message"]


@pytest.mark.parametrize("path, value, error_path", INVALID)
def test_invalid_statement_is_400_naming_the_bad_property(client, path, value, error_path):
    st = with_value(make_statement(), path, value)
    if isinstance(st["object"], dict) and st["object"].get("objectType", "Activity") != "Activity":
        del st["context"]["platform"]  # only allowed with an Activity object; not what this case is about
        if error_path == "context.revision":
            st["context"]["revision"] = "2"
    resp = client.post("/statements", json=st)
    assert resp.status_code == 400, resp.text
    err = error_of(resp)
    assert _path_matches(err, error_path), (err, error_path)
    # nothing stored: the id is unknown afterwards
    if isinstance(st.get("id"), str) and len(st["id"]) == 36:
        assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


@pytest.mark.parametrize("path, value, error_path", INVALID[:12])
def test_invalid_statement_by_put_is_400_too(client, path, value, error_path):
    st = with_value(make_statement(), path, value)
    if st["object"].get("objectType", "Activity") != "Activity":
        del st["context"]["platform"]
    resp = client.put("/statements", params={"statementId": st["id"]}, json=st)
    assert resp.status_code == 400, resp.text
    assert _path_matches(error_of(resp), error_path)


def test_additional_top_level_property_is_400_with_its_path(client):
    resp = client.post("/statements", json=make_statement(grade="A"))
    assert resp.status_code == 400
    assert error_of(resp).get("path") == "grade"


def test_additional_top_level_property_is_400(client):
    resp = client.post("/statements", json=make_statement(grade="A"))
    assert resp.status_code == 400
    assert "grade" in error_of(resp)["message"]


def test_top_level_key_in_wrong_case_is_400(client):
    st = make_statement()
    st["Actor"] = st.pop("actor")
    resp = client.post("/statements", json=st)
    assert resp.status_code == 400
    error_of(resp)


@pytest.mark.parametrize("missing", ["actor", "verb", "object"])
def test_statement_without_required_property_is_400_2_2_s2_b3(client, missing):
    resp = client.post("/statements", json=make_statement(**{missing: None}))
    assert resp.status_code == 400
    err = error_of(resp)
    assert missing in err["message"] or err.get("path") == missing


def test_error_in_second_statement_of_batch_names_its_index(client):
    good, bad = make_statement(), make_statement()
    bad["actor"]["mbox"] = "bob"
    resp = client.post("/statements", json=[good, bad])
    assert resp.status_code == 400
    assert error_of(resp)["path"] == "[1].actor.mbox"


@pytest.mark.parametrize("body", [b"{not json", b"", b"42", b'"a string"', b"[1, 2]", b"null"],
                         ids=["malformed", "empty", "number", "string", "array_of_numbers", "null"])
def test_body_that_is_not_a_statement_is_400(client, body):
    resp = client.post("/statements", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    error_of(resp)


def test_statement_sent_without_json_content_type_is_400_3_2_s3_b6(client):
    import json

    resp = client.post("/statements", content=json.dumps(make_statement()), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 400


# -- valid edge cases that must be accepted -----------------------------------------------------------

IFIS = {
    "mbox": {"mbox": "mailto:ada@example.com"},
    "mbox_sha1sum": {"mbox_sha1sum": hashlib.sha1(b"mailto:ada@example.com").hexdigest()},
    "openid": {"openid": "http://openid.example.com/ada"},
    "account": {"account": {"homePage": "http://lms.example.com", "name": "ada-42"}},
}


def accept(client, st, version=None):
    headers = {"X-Experience-API-Version": version} if version else {}
    resp = client.post("/statements", json=st, headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() == [st["id"]]
    got = client.get("/statements", params={"statementId": st["id"]}, headers=headers)
    assert got.status_code == 200
    return got.json()


@pytest.mark.parametrize("ifi", list(IFIS))
def test_agent_with_each_ifi_is_accepted_2_4_2_3(client, ifi):
    stored = accept(client, make_statement(actor=dict(IFIS[ifi], name="Ada")))
    assert stored["actor"][ifi] == IFIS[ifi][ifi]


@pytest.mark.parametrize("ifi", list(IFIS))
def test_identified_group_with_each_ifi_is_accepted_2_4_2_2_s5(client, ifi):
    group = dict(IFIS[ifi], objectType="Group", name="Night shift",
                 member=[{"mbox": "mailto:bob@example.com"}, {"openid": "http://openid.example.com/carol"}])
    stored = accept(client, make_statement(actor=group))
    assert stored["actor"]["objectType"] == "Group"
    assert len(stored["actor"]["member"]) == 2


def test_identified_group_without_members_is_accepted(client):
    accept(client, make_statement(actor={"objectType": "Group", "account": {"homePage": "http://x.example.com",
                                                                            "name": "team-7"}}))


def test_anonymous_group_with_members_is_accepted_2_4_2_2_s4(client):
    accept(client, make_statement(actor={"objectType": "Group", "member": [IFIS["mbox"], IFIS["account"]]}))


def test_extensions_may_hold_null_values_2_2_s4_b1_b1(client):
    st = make_statement()
    st["context"]["extensions"] = {"http://example.com/ext/a": None, "http://example.com/ext/b": {"c": None}}
    st["result"]["extensions"] = {"http://example.com/ext/r": [None, 1]}
    st["object"]["definition"]["extensions"] = {"http://example.com/ext/d": None}
    stored = accept(client, st)
    assert stored["context"]["extensions"]["http://example.com/ext/a"] is None
    assert stored["result"]["extensions"] == {"http://example.com/ext/r": [None, 1]}


def test_extension_values_of_any_type_are_accepted_4_1_s3_b2(client):
    st = make_statement()
    st["context"]["extensions"] = {"http://example.com/ext/a": [1, "two", {"three": 3.0}], "urn:x:y": True}
    accept(client, st)


def test_substatement_object_is_accepted_2_4_4_3(client):
    sub = sub_statement(result={"success": True}, context={"platform": "x", "contextActivities": {
        "parent": {"id": "http://example.com/p"}}}, timestamp="2024-03-01T09:00:00Z")
    stored = accept(client, make_statement(object=sub, context={"registration": str(uuid.uuid4())}))
    assert stored["object"]["objectType"] == "SubStatement"
    assert stored["object"]["actor"] == sub["actor"]


def test_substatement_with_statementref_object_is_accepted(client):
    accept(client, make_statement(context=None, object=sub_statement(object={
        "objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"})))


@pytest.mark.parametrize("obj", [
    {"objectType": "Agent", "mbox": "mailto:bob@example.com"},
    {"objectType": "Group", "member": [{"mbox": "mailto:bob@example.com"}]},
    {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
    {"id": "http://example.com/no-object-type-is-an-activity"},
], ids=["agent", "anonymous_group", "statementref", "activity_without_objecttype"])
def test_each_object_type_is_accepted_2_4_4(client, obj):
    st = make_statement(object=obj)
    if obj.get("objectType") not in (None, "Activity"):
        del st["context"]["platform"]
    accept(client, st)


@pytest.mark.parametrize("definition", [
    {"interactionType": "true-false", "correctResponsesPattern": ["true"]},
    {"interactionType": "choice", "correctResponsesPattern": ["a[,]b"],
     "choices": [{"id": "a", "description": {"en-US": "A"}}, {"id": "b", "description": {"en-US": "B"}}]},
    {"interactionType": "fill-in", "correctResponsesPattern": ["{case_matters=false}Paris"]},
    {"interactionType": "long-fill-in", "correctResponsesPattern": ["{lang=en}It depends"]},
    {"interactionType": "matching", "source": [{"id": "s1"}], "target": [{"id": "t1"}],
     "correctResponsesPattern": ["s1[.]t1"]},
    {"interactionType": "performance", "steps": [{"id": "1"}, {"id": "2"}], "correctResponsesPattern": ["1[.]3[,]2"]},
    {"interactionType": "sequencing", "choices": [{"id": "x"}, {"id": "y"}], "correctResponsesPattern": ["x[,]y"]},
    {"interactionType": "likert", "scale": [{"id": "1"}, {"id": "2"}], "correctResponsesPattern": ["2"]},
    {"interactionType": "numeric", "correctResponsesPattern": ["4[:]6"]},
    {"interactionType": "other", "correctResponsesPattern": ["(35.9,-86.7)"]},
], ids=lambda d: d["interactionType"])
def test_each_interaction_type_is_accepted_2_4_4_1_s9(client, definition):
    accept(client, make_statement(object={"id": "http://example.com/q/1", "definition": dict(
        definition, type="http://adlnet.gov/expapi/activities/cmi.interaction")}))


@pytest.mark.parametrize("version", ["1.0.0", "1.0.3", "1.0.9"])
def test_statement_version_starting_1_0_is_accepted_and_kept_2_4_10_s3(client, version):
    stored = accept(client, make_statement(version=version))
    assert stored["version"] == version


@pytest.mark.parametrize("ts", ["2024-03-01T10:15:30Z", "2024-03-01T10:15:30.123456789Z",
                                "2024-03-01T10:15:30+05:30", "2024-03-01T10:15:30.5-0800"])
def test_valid_timestamps_are_accepted_4_5(client, ts):
    accept(client, make_statement(timestamp=ts))


@pytest.mark.parametrize("duration", ["PT0S", "P1Y2M3DT4H5M6.7S", "PT1.5H", "P3W", "PT36H"])
def test_valid_durations_are_accepted_4_6(client, duration):
    st = make_statement()
    st["result"]["duration"] = duration
    accept(client, st)


def test_score_at_the_bounds_is_accepted_2_4_5_1(client):
    st = make_statement()
    st["result"]["score"] = {"scaled": -1, "raw": 0, "min": 0, "max": 1}
    accept(client, st)
    st = make_statement()
    st["result"]["score"] = {"scaled": 1, "raw": 1, "min": 0, "max": 1}
    accept(client, st)


def test_minimal_statement_is_accepted(client):
    accept(client, {"actor": {"mbox": "mailto:min@example.com"}, "verb": {"id": "urn:x:v"},
                    "object": {"id": "urn:x:o"}, "id": "0b8f5a1e-2f8e-4c51-b09d-5b7b9b1c0a11"})


@pytest.mark.parametrize("tag", ["en", "en-US", "zh-Hant-TW", "sr-Latn-RS", "es-419", "x-private", "de-CH-1996"])
def test_valid_language_tags_are_accepted_2_2_s4_b2(client, tag):
    accept(client, make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/completed", "display": {tag: "x"}}))


CONTEXT_AGENTS = {
    "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:coach@example.com"},
                       "relevantTypes": ["http://example.com/types/coach"]}],
    "contextGroups": [{"objectType": "contextGroup",
                       "group": {"objectType": "Group", "member": [{"mbox": "mailto:peer@example.com"}]}}],
}


def test_context_agents_and_groups_are_accepted_under_2_0_0(client):
    st = make_statement()
    st["context"].update(CONTEXT_AGENTS)
    stored = accept(client, st, version="2.0.0")
    assert stored["context"]["contextAgents"] == CONTEXT_AGENTS["contextAgents"]
    assert stored["context"]["contextGroups"] == CONTEXT_AGENTS["contextGroups"]


@pytest.mark.parametrize("key", list(CONTEXT_AGENTS))
def test_context_agents_and_groups_are_rejected_under_1_0_3(client, key):
    st = make_statement()
    st["context"][key] = CONTEXT_AGENTS[key]
    resp = client.post("/statements", json=st)
    assert resp.status_code == 400
    assert error_of(resp)["path"] == f"context.{key}"

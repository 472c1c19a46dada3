"""SCORM 2004 sequencing as the manifest says, through scorm-again's real engine (driver.mjs under Node).

Each test writes a small manifest, reads it with the content store's parser, builds the activity
tree with ``player.sequencing.settings_for`` and plays SCOs through the engine: what it delivers,
what it allows, what it rolls up. References are to the SCORM 2004 4th edition SN book.
"""
from __future__ import annotations

import pytest
from seq_kit import completed, failed, flow, item, manifest, passed, run, sco, seq


def rule(kind: str, action: str, condition: str = "always", *, combination: str | None = None,
         **attrs) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    comb = f' conditionCombination="{combination}"' if combination else ""
    return (f"<imsss:{kind}ConditionRule><imsss:ruleConditions{comb}>"
            f'<imsss:ruleCondition condition="{condition}"{extra}/></imsss:ruleConditions>'
            f'<imsss:ruleAction action="{action}"/></imsss:{kind}ConditionRule>')


def rules(*body: str) -> str:
    return f"<imsss:sequencingRules>{''.join(body)}</imsss:sequencingRules>"


def three(**seqs) -> str:
    """org (flow, choice) with leaves a, b, c; ``a=`` etc. give an item's sequencing body."""
    return manifest("".join(item(i, seq(seqs[i]) if i in seqs else "") for i in "abc"),
                    seq(seqs.get("org", flow())))


def order(report) -> list:
    return report["delivered"]


# -- control modes (SN 3.2) --------------------------------------------------------------------

def test_choice_false_refuses_choosing_a_child_and_true_delivers_it():
    allowed = run(three(), [completed("{target=c}choice"), completed()])
    assert allowed["steps"][0]["valid"]["choice"]["c"] == "true"
    assert order(allowed) == ["a", "c"]
    refused = run(three(org=flow(choice=False)), [completed("{target=c}choice")])
    assert refused["steps"][0]["valid"]["choice"]["c"] == "false"
    assert order(refused) == ["a"]


def test_choice_exit_false_keeps_choice_inside_the_cluster_until_it_ends():
    xml = manifest(item("m", seq('<imsss:controlMode choiceExit="false" flow="true"/>'),
                        children=item("a") + item("b")) + item("c"), seq(flow()))
    report = run(xml, [completed("{target=c}choice"), completed("{target=b}choice"), completed()])
    first = report["steps"][0]["valid"]["choice"]
    assert first["b"] == "true" and first["c"] == "false"
    assert order(report) == ["a", "b", "c"]  # c only by flow, once m has ended


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 under constrainChoice refuses to deliver the activity "
                   "right after the current one (while adl.nav.request_valid says the choice is valid); SN SB.2.9 "
                   "(Choice Sequencing Request Process) with adlseq:constrainChoice allows the activities logically "
                   "next to and previous to the current one (ADL test CM-16)")
def test_constrain_choice_delivers_the_activity_logically_next():
    xml = three(org='<adlseq:constrainedChoiceConsiderations constrainChoice="true"/>')
    report = run(xml, [{"lms": "choice", "target": "b"}, completed("{target=c}choice"), completed(None)])
    assert report["steps"][1]["valid"]["choice"]["c"] == "true"
    assert order(report) == ["b", "c"]


def test_flow_false_gives_no_continue_and_flow_true_delivers_the_next_activity():
    stuck = run(three(org='<imsss:controlMode flow="false"/>'),
                [{"lms": "choice", "target": "a"}, completed("continue")])
    assert stuck["steps"][1]["valid"]["continue"] == "false"
    assert order(stuck) == ["a"]
    flowing = run(three(), [completed(), completed(), completed()], state=["org"])
    assert order(flowing) == ["a", "b", "c"]
    assert flowing["state"]["org"]["completion"] == "completed"


def test_forward_only_forbids_previous():
    free = run(three(), [completed(), completed("previous"), completed()])
    assert order(free) == ["a", "b", "a", "b"]
    forward = run(three(org=flow(extra='forwardOnly="true"')), [completed(), completed("previous")])
    assert forward["steps"][1]["valid"]["previous"] == "false"
    assert order(forward) == ["a", "b"]


# -- precondition rules (SN 3.4.2) -------------------------------------------------------------

def test_skip_precondition_passes_over_the_activity_in_flow():
    assert order(run(three(b=rules(rule("pre", "skip"))), [completed(), completed()])) == ["a", "c"]


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 flows into the first child cluster of a chosen cluster "
                   "although that child's skip precondition holds; ADL's LMS tests CM-04b and CM-04c expect the "
                   "flow into a chosen cluster (SN SB.2.9 Choice Sequencing Request Process, its Choice Flow "
                   "Subprocess SB.2.9.1) to pass over a descendant a skip rule excludes")
def test_choosing_a_cluster_skips_a_child_cluster_whose_skip_rule_holds():
    inner = item("n", seq(flow() + rules(rule("pre", "skip", "attempted"))), children=item("x") + item("y"))
    xml = manifest(item("m", seq(flow()), children=inner + item("z")) + item("w"), seq(flow()))
    report = run(xml, [{"lms": "choice", "target": "x"}, completed("{target=m}choice"), completed(None)])
    assert order(report) == ["x", "z"]


def test_disabled_precondition_refuses_choice_of_the_activity():
    report = run(three(b=rules(rule("pre", "disabled"))), [completed("{target=b}choice"), completed("{target=c}choice")])
    assert report["steps"][0]["valid"]["choice"]["b"] == "false"
    assert order(report) == ["a", "c"]  # the choice of b delivered nothing


def test_hidden_from_choice_precondition_hides_the_activity_from_choice_only():
    report = run(three(b=rules(rule("pre", "hiddenFromChoice"))), [completed(), completed()])
    assert report["steps"][0]["valid"]["choice"]["b"] == "false"
    assert order(report) == ["a", "b", "c"]  # flow still delivers it


def test_stop_forward_traversal_precondition_lets_flow_pass():
    report = run(three(b=rules(rule("pre", "stopForwardTraversal"))), [completed(), completed()])
    assert order(report) == ["a", "b", "c"]  # the rule limits choice only (SB.2.4)


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 ignores a stopForwardTraversal precondition when a "
                   "choice jumps forward over the activity: SN SB.2.9 step 11 applies the Choice Activity "
                   "Traversal Subprocess (SB.2.4, exception SB.2.4-1) to the activities between current and target")
def test_stop_forward_traversal_precondition_refuses_choosing_past_the_activity():
    report = run(three(b=rules(rule("pre", "stopForwardTraversal"))), [completed("{target=c}choice")])
    assert report["steps"][0]["valid"]["choice"]["c"] == "false"
    assert order(report) == ["a"]


# -- postcondition and exit rules (SN 3.4.3, 3.4.4) --------------------------------------------

def test_retry_postcondition_delivers_the_failed_activity_again():
    a = rules(rule("post", "retry", "satisfied", operator="not"))
    report = run(three(a=a), [failed(), passed(), completed()], state=["a"])
    assert order(report) == ["a", "a", "b", "c"]
    assert report["state"]["a"]["attempts"] == 2


def test_continue_postcondition_flows_on_without_a_request_from_the_sco():
    report = run(three(a=rules(rule("post", "continue"))), [completed(None), completed(None)])
    assert order(report) == ["a", "b"]  # b has no such rule: its exit delivers nothing


def test_previous_postcondition_goes_back():
    report = run(three(b=rules(rule("post", "previous", "satisfied", operator="not"))),
                 [completed(), failed(None), completed(None)])
    assert order(report) == ["a", "b", "a"]


def test_exit_parent_postcondition_leaves_the_cluster_and_its_own_rules_continue():
    xml = manifest(item("m", seq(flow() + rules(rule("post", "continue"))),
                        children=item("a", seq(rules(rule("post", "exitParent")))) + item("b"))
                   + item("c"), seq(flow()))
    assert order(run(xml, [completed(None), completed()])) == ["a", "c"]


def test_exit_all_postcondition_ends_the_session():
    report = run(three(a=rules(rule("post", "exitAll"))), [completed("continue")])
    assert order(report) == ["a"]
    assert report["steps"][0]["current"] is None


def test_retry_all_postcondition_restarts_the_course_from_its_first_activity():
    b = rules(rule("post", "retryAll", "satisfied", operator="not"))
    report = run(three(b=b), [completed(), failed(), completed(None)], state=["org"])
    assert order(report) == ["a", "b", "a"]
    assert report["state"]["org"]["attempts"] == 2


def test_exit_condition_rule_on_a_cluster_ends_it_when_its_child_ends():
    xml = manifest(item("m", seq(flow() + rules(rule("exit", "exit", "attempted"))),
                        children=item("a") + item("b")) + item("c"), seq(flow()))
    assert order(run(xml, [completed(), completed()])) == ["a", "c"]


# -- limit conditions (SN 3.5) -----------------------------------------------------------------

def test_attempt_limit_refuses_another_attempt():
    report = run(three(a='<imsss:limitConditions attemptLimit="1"/>'),
                 [completed(), completed("{target=a}choice"), completed("previous")])
    assert report["steps"][1]["valid"]["choice"]["a"] == "false"
    assert order(report) == ["a", "b"]


def test_attempt_limit_exceeded_condition_stops_a_retry_rule():
    a = ('<imsss:limitConditions attemptLimit="2"/>' +
         rules(rule("post", "retry", "satisfied", operator="not")))
    report = run(three(a=a), [failed(), failed(), completed()])
    assert order(report) == ["a", "a", "b"]


def test_an_attempt_duration_limit_does_not_keep_the_activity_from_being_delivered():
    report = run(three(a='<imsss:limitConditions attemptAbsoluteDurationLimit="PT1H"/>'), [completed()])
    assert order(report) == ["a", "b"]


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 refuses to deliver any activity with an "
                   "attemptAbsoluteDurationLimit (DB.1.1-3): Activity.attemptAbsoluteDuration returns the limit "
                   "itself, so the Limit Conditions Check (UP.1) always finds it used up; settings_for passes the "
                   "limit as timeLimitDuration instead")
def test_engine_delivers_an_activity_given_an_attempt_absolute_duration_limit():
    tree = {"activityTree": {"id": "r", "title": "r", "sequencingControls": {"flow": True}, "children": [
        {"id": "a", "title": "a", "attemptAbsoluteDurationLimit": "PT1H"}, {"id": "b", "title": "b"}]}}
    assert order(run(tree, [completed()])) == ["a", "b"]


# -- rollup (SN 4.6) ---------------------------------------------------------------------------

def rollup_rule(action: str, condition: str, child_set: str = "all", *, operator: str = "", **attrs) -> str:
    extra = "".join(f' {k}="{v}"' for k, v in attrs.items())
    op = f' operator="{operator}"' if operator else ""
    return (f'<imsss:rollupRule childActivitySet="{child_set}"{extra}><imsss:rollupConditions>'
            f'<imsss:rollupCondition condition="{condition}"{op}/></imsss:rollupConditions>'
            f'<imsss:rollupAction action="{action}"/></imsss:rollupRule>')


def two_scos(org_rollup: str = "", a: str = "", b: str = "") -> str:
    return manifest(item("a", seq(a) if a else "") + item("b", seq(b) if b else ""),
                    seq(flow() + org_rollup))


def test_default_rollup_fails_the_course_when_any_child_fails():
    report = run(two_scos(), [passed(), failed()], state=["org"])
    assert report["state"]["org"]["success"] == "failed"


def test_rollup_rule_any_child_satisfied_passes_the_course():
    rollup = f"<imsss:rollupRules>{rollup_rule('satisfied', 'satisfied', 'any')}</imsss:rollupRules>"
    report = run(two_scos(rollup), [passed(), failed()], state=["org"])
    assert report["state"]["org"]["success"] == "passed"


def test_rollup_rule_at_least_count_and_percent():
    count = f"<imsss:rollupRules>{rollup_rule('satisfied', 'satisfied', 'atLeastCount', minimumCount=2)}" \
            f"{rollup_rule('notSatisfied', 'always')}</imsss:rollupRules>"
    xml = manifest("".join(item(i) for i in "abc"), seq(flow() + count))
    assert run(xml, [passed(), failed(), passed()], state=["org"])["state"]["org"]["success"] == "passed"
    assert run(xml, [passed(), failed(), failed()], state=["org"])["state"]["org"]["success"] == "failed"
    percent = count.replace('childActivitySet="atLeastCount" minimumCount="2"',
                            'childActivitySet="atLeastPercent" minimumPercent="0.6"')
    xml = manifest("".join(item(i) for i in "abc"), seq(flow() + percent))
    assert run(xml, [passed(), failed(), passed()], state=["org"])["state"]["org"]["success"] == "passed"
    assert run(xml, [passed(), failed(), failed()], state=["org"])["state"]["org"]["success"] == "failed"


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 evaluates a rollup condition as true or false: a child "
                   "whose status is unknown counts as not satisfied, so 'none satisfied' holds while a child is "
                   "still unknown; SN RB.1.4 (Rollup Rule Check) and RB.1.4.1 evaluate each condition to true, "
                   "false or unknown, and 'none' needs every child false (ADL tests RU-05a/b)")
def test_rollup_rule_none_is_not_met_while_a_child_status_is_unknown():
    rollup = f"<imsss:rollupRules>{rollup_rule('completed', 'satisfied', 'none')}</imsss:rollupRules>"
    report = run(two_scos(rollup), [sco(None, success_status="failed"), {"state": ["org"]}])
    assert report["steps"][1]["state"]["org"]["completion"] != "completed"  # b's status is still unknown


def test_rollup_objective_satisfied_false_leaves_a_child_out_of_success_rollup():
    report = run(two_scos(b='<imsss:rollupRules rollupObjectiveSatisfied="false"/>'),
                 [passed(), failed()], state=["org"])
    assert report["state"]["org"]["success"] == "passed"


def test_rollup_progress_completion_false_leaves_a_child_out_of_completion_rollup():
    report = run(two_scos(b='<imsss:rollupRules rollupProgressCompletion="false"/>'),
                 [completed("continue"), sco("exitAll", completion_status="incomplete")], state=["org"])
    assert report["state"]["org"]["completion"] == "completed"
    plain = run(two_scos(), [completed("continue"), sco("exitAll", completion_status="incomplete")],
                state=["org"])
    assert plain["state"]["org"]["completion"] == "incomplete"


def test_objective_measure_weight_weighs_the_course_measure():
    report = run(two_scos(b='<imsss:rollupRules objectiveMeasureWeight="3"/>'),
                 [passed(score=1.0), failed(score=0.0)], state=["org"])
    assert report["state"]["org"]["measure"] == pytest.approx(0.25)


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 divides the rolled-up measure by the weights of the "
                   "children whose measure is known; SN RB.1.1 (Measure Rollup Process) counts the weight of every "
                   "tracked child (ADL test RU-14c fails on this)")
def test_measure_rollup_counts_the_weight_of_a_child_without_a_measure():
    report = run(two_scos(), [sco("continue", completion_status="completed"), passed(score=0.4)], state=["org"])
    assert report["state"]["org"]["measure"] == pytest.approx(0.2)


def test_required_for_satisfied_if_attempted_ignores_a_child_never_attempted():
    ifattempted = '<adlseq:rollupConsiderations requiredForSatisfied="ifAttempted" requiredForNotSatisfied="ifAttempted"/>'
    report = run(two_scos(b=ifattempted), [passed("exitAll")], state=["org"])
    assert report["state"]["org"]["success"] == "passed"
    plain = run(two_scos(), [passed("exitAll")], state=["org"])
    assert plain["state"]["org"]["success"] != "passed"


def test_required_for_completed_if_attempted_ignores_a_child_never_attempted():
    ifattempted = '<adlseq:rollupConsiderations requiredForCompleted="ifAttempted" requiredForIncomplete="ifAttempted"/>'
    report = run(two_scos(b=ifattempted), [completed("exitAll")], state=["org"])
    assert report["state"]["org"]["completion"] == "completed"
    plain = run(two_scos(), [completed("exitAll")], state=["org"])
    assert plain["state"]["org"]["completion"] != "completed"


# -- objectives and their maps (SN 3.10, 4th ed. adlseq:objectives) -----------------------------

WRITE_G = """<imsss:objectives><imsss:primaryObjective objectiveID="pa" satisfiedByMeasure="true">
  <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure>
  <imsss:mapInfo targetObjectiveID="g" writeSatisfiedStatus="true" writeNormalizedMeasure="true"/>
  </imsss:primaryObjective></imsss:objectives>"""
READ_G = """<imsss:objectives><imsss:primaryObjective objectiveID="pb">
  <imsss:mapInfo targetObjectiveID="g" readSatisfiedStatus="true" readNormalizedMeasure="true"/>
  </imsss:primaryObjective></imsss:objectives>"""


def test_global_objective_satisfied_written_by_one_activity_skips_another():
    xml = three(a=WRITE_G, b=rules(rule("pre", "skip", "satisfied")) + READ_G)
    report = run(xml, [sco("continue", **{"score.scaled": 0.9, "completion_status": "completed"}), completed()])
    assert order(report) == ["a", "c"]
    report = run(xml, [sco("continue", **{"score.scaled": 0.3, "completion_status": "completed"}), completed()])
    assert order(report) == ["a", "b", "c"]


def test_global_objective_measure_is_read_by_a_measure_condition():
    xml = three(a=WRITE_G, b=rules(rule("pre", "skip", "objectiveMeasureGreaterThan", measureThreshold="0.5"))
                + READ_G.replace('readSatisfiedStatus="true"', 'readSatisfiedStatus="false"'))
    high = run(xml, [sco("continue", **{"score.scaled": 0.55, "completion_status": "completed"}), completed()])
    assert order(high) == ["a", "c"]
    low = run(xml, [sco("continue", **{"score.scaled": 0.45, "completion_status": "completed"}), completed()])
    assert order(low) == ["a", "b", "c"]


def test_local_objective_reported_by_the_sco_drives_a_rule_that_references_it():
    a = ("""<imsss:objectives><imsss:primaryObjective objectiveID="pa"/>
         <imsss:objective objectiveID="lo"/></imsss:objectives>"""
         + rules(rule("post", "retry", "satisfied", operator="not", referencedObjective="lo")))
    fail_lo = {"sco": {"get": ["cmi.objectives._count", "cmi.objectives.1.id"],
                       "set": [["cmi.objectives.1.id", "lo"], ["cmi.objectives.1.success_status", "failed"],
                               ["cmi.completion_status", "completed"], ["cmi.success_status", "passed"]],
                       "nav": "continue"}}
    pass_lo = {"sco": {"set": [["cmi.objectives.1.id", "lo"], ["cmi.objectives.1.success_status", "passed"],
                               ["cmi.completion_status", "completed"]], "nav": "continue"}}
    report = run(three(a=a), [fail_lo, pass_lo, completed(None)])
    assert report["steps"][0]["get"]["cmi.objectives.1.id"] == "lo"  # seeded from the manifest
    assert order(report) == ["a", "a", "b"]


def test_objective_ids_are_collapsed_and_percent_decoded_so_a_rule_finds_its_objective():
    """objectiveID and referencedObjective are xs:anyURI (whitespace collapses), written encoded or
    not: " ob%20j%201 " and "  ob%20%20j%201" name the objective the SCO sees as "ob j 1" (ADL OB-12a)."""
    a = ("""<imsss:objectives><imsss:primaryObjective/>
         <imsss:objective objectiveID=" ob%20j%201     "/></imsss:objectives>"""
         + rules(rule("post", "retry", "satisfied", operator="not", referencedObjective="  ob%20%20j%201 ")))
    fail = {"sco": {"get": ["cmi.objectives.0.id"],
                    "set": [["cmi.objectives.0.success_status", "failed"], ["cmi.completion_status", "completed"]],
                    "nav": "continue"}}
    report = run(three(a=a), [fail, passed(), completed(None)])
    assert report["steps"][0]["get"]["cmi.objectives.0.id"] == "ob j 1"
    assert order(report) == ["a", "a", "b"]


def test_adlseq_objective_map_shares_raw_score_and_completion_through_a_global():
    write = """<imsss:objectives><imsss:primaryObjective objectiveID="pa">
      <imsss:mapInfo targetObjectiveID="g" readSatisfiedStatus="false" readNormalizedMeasure="false"/>
      </imsss:primaryObjective></imsss:objectives>
      <adlseq:objectives><adlseq:objective objectiveID="pa">
      <adlseq:mapInfo targetObjectiveID="g" writeRawScore="true" writeCompletionStatus="true"/>
      </adlseq:objective></adlseq:objectives>"""
    read = """<imsss:objectives><imsss:primaryObjective objectiveID="pb">
      <imsss:mapInfo targetObjectiveID="g"/></imsss:primaryObjective></imsss:objectives>
      <adlseq:objectives><adlseq:objective objectiveID="pb">
      <adlseq:mapInfo targetObjectiveID="g" readRawScore="true" readCompletionStatus="true"/>
      </adlseq:objective></adlseq:objectives>"""
    write_sco = {"sco": {"set": [["cmi.objectives.0.score.raw", "42"],
                                 ["cmi.objectives.0.completion_status", "completed"],
                                 ["cmi.completion_status", "completed"]], "nav": "continue"}}
    report = run(three(a=write, b=read), [write_sco, {"sco": {"get": ["cmi.objectives.0.id",
                                                                        "cmi.objectives.0.score.raw",
                                                                        "cmi.objectives.0.completion_status"]}}])
    got = report["steps"][1]["get"]
    assert got["cmi.objectives.0.id"] == "pb"
    assert got["cmi.objectives.0.score.raw"] == "42"
    assert got["cmi.objectives.0.completion_status"] == "completed"


def test_adlcp_data_maps_share_a_store_between_scos():
    write = '<adlcp:data><adlcp:map targetID="notes" readSharedData="true" writeSharedData="true"/></adlcp:data>'
    read = '<adlcp:data><adlcp:map targetID="notes" readSharedData="true" writeSharedData="false"/></adlcp:data>'
    xml = manifest(item("a", write) + item("b", read), seq(flow()))
    report = run(xml, [{"sco": {"get": ["adl.data._count", "adl.data.0.id"],
                                "set": [["adl.data.0.store", "hello"], ["cmi.completion_status", "completed"]],
                                "nav": "continue"}},
                       {"sco": {"get": ["adl.data.0.id", "adl.data.0.store"],
                                "set": [["adl.data.0.store", "overwrite"]]}}])
    first, second = report["steps"]
    assert first["get"] == {"adl.data._count": "1", "adl.data.0.id": "notes"}
    assert second["get"] == {"adl.data.0.id": "notes", "adl.data.0.store": "hello"}
    assert second["set_errors"] == {"adl.data.0.store": "404"}  # read-only for b (RTE 4.3.1)


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 takes the completion status read from a global objective "
                   "as it is for an activity completed by measure; SN 4th ed. RB.1.3.a (Activity Progress Rollup "
                   "Using Measure) decides that activity's completion from its progress measure, here read from the "
                   "same global (0.8 >= 0.5: completed), as ADL's test CO-02a expects")
def test_progress_measure_read_from_a_global_completes_an_activity_completed_by_measure():
    writer = """<imsss:objectives><imsss:primaryObjective objectiveID="p"/></imsss:objectives>
        <adlseq:objectives><adlseq:objective objectiveID="p"><adlseq:mapInfo targetObjectiveID="g"
        writeCompletionStatus="true" writeProgressMeasure="true"/></adlseq:objective></adlseq:objectives>"""
    reader = (rules(rule("pre", "skip", "completed"))
              + """<imsss:objectives><imsss:primaryObjective objectiveID="p"/></imsss:objectives>
        <adlseq:objectives><adlseq:objective objectiveID="p"><adlseq:mapInfo targetObjectiveID="g"/>
        </adlseq:objective></adlseq:objectives>""")
    threshold = '<adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.5"/>'
    xml = manifest(item("a", seq(writer)) + item("b", seq(reader) + threshold) + item("c"),
                   seq(flow(choice=False)))
    first = {"sco": {"set": [["cmi.objectives.0.progress_measure", "0.8"],
                             ["cmi.objectives.0.completion_status", "incomplete"]], "nav": "continue"}}
    assert order(run(xml, [first, completed(), completed(None)])) == ["a", "c"]


def test_global_objectives_saved_from_one_session_are_read_in_the_next():
    """objectivesGlobalToSystem: the player keeps the snapshot per learner (true) or per registration
    (false) and gives it back to the engine at the next launch."""
    xml = three(a=WRITE_G, b=rules(rule("pre", "skip", "satisfied")) + READ_G)
    first = run(xml, [sco("exitAll", **{"score.scaled": 0.9, "completion_status": "completed"})])
    assert first["globals"]["g"]["satisfiedStatus"] is True
    again = run(xml, [completed("{target=b}choice"), completed()], globals=first["globals"])
    assert "b" not in order(again)  # b's read of g skips it, in the new session too


# -- selection and randomization (SN 3.8) ------------------------------------------------------

def test_select_count_delivers_only_the_selected_children():
    xml = manifest("".join(item(i) for i in "abcd"),
                   seq(flow() + '<imsss:randomizationControls selectCount="2" selectionTiming="once"/>'))
    report = run(xml, [completed()] * 3, state=["org"], seed=7)
    selected = report["state"]["org"]["available_children"]
    assert len(selected) == 2
    assert order(report) == selected


def test_randomization_reorders_children_and_flow_follows_the_new_order():
    xml = manifest("".join(item(i) for i in "abcdef"),
                   seq(flow() + '<imsss:randomizationControls reorderChildren="true" randomizationTiming="once"/>'))
    orders = []
    for seed in (1, 2, 3):
        report = run(xml, [completed()] * 6, state=["org"], seed=seed)
        assert sorted(order(report)) == list("abcdef")
        assert order(report) == report["state"]["org"]["children"]
        orders.append(order(report))
    assert any(o != list("abcdef") for o in orders)
    plain = manifest("".join(item(i) for i in "abcdef"), seq(flow()))
    assert order(run(plain, [completed()] * 6, seed=1)) == list("abcdef")


# -- delivery controls (SN 3.13) ---------------------------------------------------------------

def test_untracked_activity_is_left_out_of_rollup():
    report = run(two_scos(a='<imsss:deliveryControls tracked="false"/>'),
                 [failed(), passed()], state=["org", "a"])
    assert report["state"]["org"]["success"] == "passed"
    plain = run(two_scos(), [failed(), passed()], state=["org"])
    assert plain["state"]["org"]["success"] == "failed"


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 records the SCO's success and completion on an activity "
                   "whose deliveryControls tracked is false; SN 3.13.1 (Tracked): status is recorded only for "
                   "tracked activities")
def test_untracked_activity_records_no_status():
    report = run(two_scos(a='<imsss:deliveryControls tracked="false"/>'), [failed(), passed()], state=["a"])
    assert report["state"]["a"]["success"] == "unknown"


@pytest.mark.xfail(strict=True, reason="scorm-again 3.4.3 evaluates activityProgressKnown on an activity whose "
                   "deliveryControls tracked is false with the completion status read from a global objective; "
                   "an untracked activity has no tracking status (SN 3.13.1), and the engine itself already treats "
                   "the objective conditions of such an activity as unknown (ADL tests CO-05a/b)")
def test_activity_progress_known_is_false_for_an_untracked_activity_whose_global_is_completed():
    writer = ("""<imsss:objectives><imsss:primaryObjective objectiveID="p"/></imsss:objectives>
        <adlseq:objectives><adlseq:objective objectiveID="p">
        <adlseq:mapInfo targetObjectiveID="g" writeCompletionStatus="true"/></adlseq:objective></adlseq:objectives>""")
    cluster = (flow(choice=False) + rules(rule("pre", "skip", "activityProgressKnown"))
               + """<imsss:objectives><imsss:primaryObjective objectiveID="p"/></imsss:objectives>
               <imsss:deliveryControls tracked="false"/>
               <adlseq:objectives><adlseq:objective objectiveID="p">
               <adlseq:mapInfo targetObjectiveID="g"/></adlseq:objective></adlseq:objectives>""")
    xml = manifest(item("a", seq(writer)) + item("m", seq(cluster), children=item("b")) + item("c"),
                   seq(flow(choice=False)))
    report = run(xml, [completed(), completed(), completed(None)])
    assert order(report) == ["a", "b", "c"]


def test_completion_set_by_content_false_completes_an_activity_the_sco_did_not():
    report = run(two_scos(), [sco("continue")], state=["a"])
    assert report["state"]["a"]["completion"] == "completed"
    by_content = run(two_scos(a='<imsss:deliveryControls completionSetByContent="true"/>'),
                     [sco("continue")], state=["a"])
    assert by_content["state"]["a"]["completion"] != "completed"


def test_objective_set_by_content_false_satisfies_an_activity_the_sco_did_not():
    report = run(two_scos(), [sco("continue")], state=["a"])
    assert report["state"]["a"]["success"] == "passed"
    by_content = run(two_scos(a='<imsss:deliveryControls objectiveSetByContent="true"/>'),
                     [sco("continue")], state=["a"])
    assert by_content["state"]["a"]["success"] == "unknown"


# -- presentation (CAM 5.1.3 adlnav) -----------------------------------------------------------

def test_hide_lms_ui_of_the_delivered_activity_is_given_to_the_player():
    pres = """<adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>continue</adlnav:hideLMSUI>
      </adlnav:navigationInterface></adlnav:presentation>"""
    xml = manifest(item("a", pres) + item("b"), seq(flow()))
    report = run(xml, [completed(), completed()])
    assert report["steps"][0]["valid"]["hide_lms_ui"] == ["continue"]
    assert report["steps"][1]["valid"]["hide_lms_ui"] == []


# -- navigation requests from content (RTE 4.4 adl.nav) ----------------------------------------

def test_content_requests_continue_and_previous():
    assert order(run(three(), [completed("continue"), completed("previous"), completed(None)])) == ["a", "b", "a"]


def test_content_request_choice_and_jump():
    report = run(three(org=flow(choice=False)), [completed("{target=c}jump"), completed("{target=a}choice")])
    assert report["steps"][0]["valid"]["jump"]["c"] == "true"
    assert order(report) == ["a", "c"]


def test_content_request_exit_delivers_nothing_further():
    report = run(three(org='<imsss:controlMode flow="false"/>'), [{"lms": "choice", "target": "b"}, completed("exit")])
    assert order(report) == ["b"]


def test_content_request_exit_all_ends_the_session():
    report = run(three(), [completed("exitAll")], state=["org"])
    assert order(report) == ["a"] and report["session_ended"]
    assert report["steps"][0]["current"] is None


def test_content_request_suspend_all_suspends_and_resumes_where_the_learner_left():
    first = run(three(), [completed(), sco("suspendAll", exit="suspend")], state=["b"], save_state=True)
    assert order(first) == ["a", "b"]
    assert first["state"]["b"]["suspended"] is True
    again = run(three(), [{"lms": "resumeAll"}, completed()], sequencing_state=first["sequencing_state"])
    assert order(again) == ["b", "c"]


def test_a_navigation_request_outside_the_vocabulary_is_refused_with_error_406():
    report = run(three(), [completed("sideways")])
    assert report["steps"][0]["nav_error"] == "406"
    assert order(report) == ["a"]


def test_a_choice_of_an_unknown_activity_is_not_valid_and_delivers_nothing():
    target = "adl.nav.request_valid.choice.{target=nowhere}"
    report = run(three(), [{"sco": {"get": [target], "nav": "{target=nowhere}choice"}}])
    assert report["steps"][0]["get"][target] == "false"
    assert order(report) == ["a"] and report["steps"][0]["current"] == "a"

"""web/jobs.py: one job per key, joined by a second request; a bounded number kept; a failure kept until
shown, then dropped so the next request starts again."""
from __future__ import annotations

import threading

import pytest

from web.jobs import Busy, Jobs


def test_a_second_run_of_a_key_joins_the_job_there_is():
    jobs, gate, calls = Jobs(wait=0), threading.Event(), []

    def work(job):
        calls.append(1)
        job.total, job.done = 10, 4
        gate.wait(5)
        return "answer"
    a = jobs.run("k", work)
    b = jobs.run("k", work)
    assert a is b and a.running
    gate.set()
    assert a.finished.wait(5) and a.result == "answer" and calls == [1]
    assert jobs.run("k", work).result == "answer" and calls == [1]


def test_a_run_waits_for_a_quick_job_to_finish():
    job = Jobs(wait=5).run("k", lambda job: 42)
    assert not job.running and job.result == 42


def test_the_oldest_finished_job_makes_room_and_a_full_house_of_running_jobs_refuses_another():
    jobs, gate = Jobs(keep=2, wait=5), threading.Event()
    jobs.run("done", lambda job: 1)
    jobs.wait = 0
    jobs.run("slow", lambda job: gate.wait(5))
    jobs.run("slow2", lambda job: gate.wait(5))       # "done" made room
    assert len(jobs) == 2
    with pytest.raises(Busy):
        jobs.run("slow3", lambda job: 3)
    gate.set()


def test_a_failure_is_taken_once_then_the_key_runs_again():
    jobs = Jobs(wait=5)

    def boom(job):
        raise ValueError("no")
    job = jobs.run("k", boom)
    assert isinstance(jobs.take_failure(job), ValueError)
    assert jobs.run("k", lambda job: "fine").result == "fine"

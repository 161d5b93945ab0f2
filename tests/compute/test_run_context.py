"""RunContext and CheckpointFile: what is saved comes back exactly, and the throttles
fire at their periods (a clock we move by hand)."""

from __future__ import annotations

import json

from compute.run_context import CheckpointFile, RunContext


def test_a_checkpoint_round_trips_exactly_and_leaves_no_partial_file(tmp_path):
    checkpoints = CheckpointFile(tmp_path / "new" / "folder" / "state.json")
    state = {"step": 12, "positions": [[0.1 + 0.2, 1 / 3, -2.5e-17]], "rng": {"s": 2**70}}
    checkpoints.save(state)
    assert checkpoints.load() == state  # floats bit for bit: JSON's shortest repr
    assert sorted(p.name for p in checkpoints.path.parent.iterdir()) == ["state.json"]
    assert json.loads(checkpoints.path.read_text()) == state  # plain JSON on disk
    checkpoints.save({"step": 13})  # replaced, not appended
    assert checkpoints.load() == {"step": 13}
    checkpoints.remove()
    assert not checkpoints.path.exists() and checkpoints.load() is None
    checkpoints.remove()  # removing twice is no error


def test_a_half_written_checkpoint_reads_as_none(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"step": 4, "positions": [[0.1, ')
    assert CheckpointFile(path).load() is None


def test_checkpoints_are_saved_once_a_period_or_when_forced(tmp_path):
    now, built = [100.0], []
    checkpoints = CheckpointFile(tmp_path / "state.json")
    context = RunContext(checkpoints=checkpoints, checkpoint_seconds=60.0, clock=lambda: now[0])

    def state():
        built.append(now[0])
        return {"step": now[0]}

    saved = []
    for t in (100.0, 159.0, 160.0, 200.0, 219.9, 220.0):  # the first waits one period
        now[0] = t
        saved.append(context.checkpoint(state))
    assert saved == [False, False, True, False, False, True]
    assert built == [160.0, 220.0]  # the state is built only when saved
    assert checkpoints.load() == {"step": 220.0}
    now[0] = 221.0
    assert not context.checkpoint_due()
    assert context.checkpoint({"step": "forced"}, force=True)  # a plain dict, any time
    assert checkpoints.load() == {"step": "forced"}
    assert not context.checkpoint({"step": "early"})  # the period starts again at 221
    now[0] = 281.0
    assert context.checkpoint_due()


def test_without_a_checkpoint_file_nothing_is_saved_or_restored():
    context = RunContext(checkpoint_seconds=0.0)
    assert not context.checkpoint_due()
    assert not context.checkpoint({"step": 1}, force=True)
    assert context.restored() is None


def test_a_restored_checkpoint_reports_its_step(tmp_path):
    checkpoints = CheckpointFile(tmp_path / "state.json")
    resumed = []
    context = RunContext(checkpoints=checkpoints, on_resumed=resumed.append)
    assert context.restored() is None and resumed == []  # nothing saved yet
    checkpoints.save({"step": 41, "series": []})
    assert context.restored() == {"step": 41, "series": []}
    checkpoints.save({"series": []})  # no step recorded: resumed from the start
    context.restored()
    assert resumed == [41, 0]
    assert RunContext(checkpoints=checkpoints).restored() == {"series": []}


def test_progress_at_exactly_the_period_and_when_forced():
    reported, now = [], [0.0]
    context = RunContext(
        on_progress=lambda done, total: reported.append((done, total)),
        progress_seconds=5.0,
        clock=lambda: now[0],
    )
    for t, done in [(0.0, 0), (4.0, 1), (5.0, 2), (6.0, 3)]:
        now[0] = t
        context.progress(done, 100)
    assert reported == [(0, 100), (2, 100)]  # 5 s after the last report is due
    context.progress(4, 100, force=True)
    context.progress(100, 100)  # the end, inside the period
    assert reported[2:] == [(4, 100), (100, 100)]
    RunContext(clock=lambda: now[0]).progress(1, 2, force=True)  # no callback: no error


def test_the_default_periods_are_5_s_for_progress_and_60_s_for_checkpoints(tmp_path):
    now, reported = [0.0], []
    context = RunContext(
        on_progress=lambda done, total: reported.append(done),
        checkpoints=CheckpointFile(tmp_path / "state.json"),
        clock=lambda: now[0],
    )
    for t in (0.0, 4.9, 5.0, 9.9, 10.0):
        now[0] = t
        context.progress(int(t * 10), 1000)
    assert reported == [0, 50, 100]
    now[0] = 59.9
    assert not context.checkpoint_due()
    now[0] = 60.0
    assert context.checkpoint_due()


def test_large_files_go_to_the_store_or_nowhere(tmp_path):
    assert RunContext().file_path("x.traj") is None
    path = RunContext(file_store=tmp_path / "runs" / "7").file_path("x.traj")  # parents made
    assert path == tmp_path / "runs" / "7" / "x.traj" and path.parent.is_dir()

"""GroupCommit: concurrent callers share batches; each gets its own result or the batch's error."""

from __future__ import annotations

import threading
import time

import pytest

from mamori.store.group_commit import GroupCommit


def test_one_caller_commits_its_own_item_at_once() -> None:
    batches: list[list[int]] = []

    def commit(batch: list[int]) -> list[int]:
        batches.append(batch)
        return [n * 10 for n in batch]

    group: GroupCommit[int, int] = GroupCommit(commit)
    assert [group.submit(n) for n in (1, 2, 3)] == [10, 20, 30]
    assert batches == [[1], [2], [3]]


def test_concurrent_callers_share_batches_and_get_their_own_results() -> None:
    batches: list[list[int]] = []

    def slow_commit(batch: list[int]) -> list[int]:
        batches.append(batch)
        time.sleep(0.02)  # callers arriving meanwhile queue for the next batch
        return [n * 10 for n in batch]

    group: GroupCommit[int, int] = GroupCommit(slow_commit, max_batch=5)
    results: dict[int, int] = {}

    def call(n: int) -> None:
        results[n] = group.submit(n)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: n * 10 for n in range(40)}
    assert sorted(n for batch in batches for n in batch) == list(range(40))
    assert len(batches) < 40 and max(len(b) for b in batches) <= 5


def test_a_failed_batch_raises_in_every_caller_of_it_and_the_next_batch_works() -> None:
    gate = threading.Event()
    calls = 0

    def commit(batch: list[str]) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            gate.wait(5)  # hold the first batch while the others queue behind it
            return batch
        if calls == 2:
            raise RuntimeError("the database went away")
        return batch

    group: GroupCommit[str, str] = GroupCommit(commit)
    errors: list[BaseException] = []

    def call(item: str) -> None:
        try:
            group.submit(item)
        except RuntimeError as exc:
            errors.append(exc)

    first = threading.Thread(target=call, args=("first",))
    first.start()
    time.sleep(0.05)
    queued = [threading.Thread(target=call, args=(f"q{n}",)) for n in range(3)]
    for thread in queued:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in [first, *queued]:
        thread.join()
    assert len(errors) == 3  # the three queued together, not the first
    assert group.submit("after") == "after"
    mismatched: GroupCommit[str, str] = GroupCommit(lambda batch: [])
    with pytest.raises(ValueError):  # a result count that does not match is an error too
        mismatched.submit("x")

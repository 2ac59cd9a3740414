"""jobs/life/status.py: the statuses and the moves between them."""

from jobs.life import status
from jobs.life.status import MOVES, Status


def test_every_status_is_either_active_or_terminal_and_has_a_word():
    for s in Status:
        assert s.active != s.terminal
        assert s.word and s.word.startswith(s.value[:4])
    assert status.for_pages()["cancelling"] == {"word": "cancelling…", "active": True,
                                                "terminal": False}  # fmt: skip


def test_every_active_status_can_end_and_every_ended_one_can_be_retried():
    def reachable(start: Status) -> set[Status]:
        seen, todo = {start}, [start]
        while todo:
            here = todo.pop()
            for move in MOVES:
                if here in move.sources and move.target not in seen:
                    seen.add(move.target)
                    todo.append(move.target)
        return seen

    for s in status.ACTIVE:
        assert any(t.terminal for t in reachable(s)), f"{s} can never end"
    assert {Status.FAILED, Status.CANCELLED} <= status.RETRY.sources
    assert Status.FINISHED not in status.RETRY.sources  # a finished job is never redone


def test_move_names_are_unique_and_a_move_never_starts_at_its_target():
    assert len({m.name for m in MOVES}) == len(MOVES)
    for move in MOVES:
        assert move.target not in move.sources

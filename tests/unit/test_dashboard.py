"""web/dashboard.py: which dashboard requests are plain reads, and which come from its pages."""

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from web.dashboard import READS, from_own_pages


def request(**headers) -> Request:
    """A POST to the dashboard on http://subcue.example with these headers."""
    return Request(EnvironBuilder("/rq/job/x/delete", "http://subcue.example", method="POST",
                                  headers=headers).get_environ())  # fmt: skip


def test_pages_data_and_static_files_are_reads_and_nothing_else_is():
    """rq-dashboard's views, JSON and files; not its requeue, delete, empty or compact."""
    for path in ("/rq", "/rq/", "/rq/0", "/rq/0/view", "/rq/0/view/job/abc",
                 "/rq/0/view/jobs/q/failed/8/asc/1", "/rq/0/data/job/abc.json",
                 "/rq/static/js/jquery-3.5.1.min.js", "/rq/favicon.ico"):  # fmt: skip
        assert READS.fullmatch(path), path
    for path in ("/rq/requeue/q", "/rq/job/abc/delete", "/rq/job/abc/requeue",
                 "/rq/queue/q/failed/empty", "/rq/queue/q/compact", "/rq/0/viewx"):  # fmt: skip
        assert not READS.fullmatch(path), path


def test_only_the_browser_saying_same_origin_counts():
    """Sec-Fetch-Site first, then Origin, then Referer; none of them is not enough."""
    own = "http://subcue.example"
    assert from_own_pages(request(**{"Sec-Fetch-Site": "same-origin"}))
    assert not from_own_pages(request(**{"Sec-Fetch-Site": "same-site", "Origin": own}))
    assert from_own_pages(request(Origin=own))
    assert not from_own_pages(request(Origin="http://subcue.example.evil.com"))
    assert not from_own_pages(request(Origin="null"))
    assert from_own_pages(request(Referer=own + "/rq/0/view/job/x"))
    assert not from_own_pages(request(Referer=own + ".evil.com/x"))
    assert not from_own_pages(request())

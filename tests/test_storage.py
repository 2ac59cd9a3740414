"""The storage contract: the same tests against a local directory and a real S3 server."""

from __future__ import annotations

import io
import os
import shutil
import tracemalloc

import pytest

from jobs.storage.s3 import S3Storage
from jobs.storage.stores import PART_PREFIX, LocalStorage, open_storage

from .helpers import DATA, make_app, upload, wait_for_status

MB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    """Each backend in turn; the bucket one keeps its keys under a prefix."""
    if request.param == "local":
        return LocalStorage(tmp_path / "storage")
    return S3Storage(request.getfixturevalue("bucket"), "pre/fix")


def storage_url(store) -> str:
    """The STORAGE_URL that names this backend."""
    if isinstance(store, LocalStorage):
        return f"file://{store.root}"
    return f"s3://{store.bucket}/{store.prefix}"


def leftovers(store) -> list[str]:
    """Traces of unfinished writes: local temp files, or multipart uploads never completed."""
    if isinstance(store, LocalStorage):
        return [str(p) for p in store.root.rglob(f"{PART_PREFIX}*")]
    answer = store.client.list_multipart_uploads(Bucket=store.bucket)
    return [u["Key"] for u in answer.get("Uploads", [])]


class Endless(io.RawIOBase):
    """`size` bytes made up while they are read, failing after `fail_after` bytes if given."""

    BLOCK = bytes(range(256)) * 256
    """At most this much per raw read, so the stream itself holds no more than 64 KB."""

    def __init__(self, size: int, fail_after: int | None = None):
        self.left, self.sent, self.fail_after = size, 0, fail_after

    def readable(self) -> bool:
        """A readable stream."""
        return True

    def readinto(self, buffer) -> int:
        """Fill (part of) the buffer with the next made-up bytes."""
        if self.fail_after is not None and self.sent >= self.fail_after:
            raise OSError("the client went away")
        n = min(len(buffer), self.left, len(self.BLOCK))
        buffer[:n] = self.BLOCK[:n]
        self.left -= n
        self.sent += n
        return n


def put_bytes(store, key: str, data: bytes) -> int:
    """Store `data` under `key`."""
    return store.put(key, io.BytesIO(data))


def read(store, key: str) -> bytes:
    """The whole stored object."""
    with store.open(key) as stream:
        return stream.read()


def test_put_open_size_list_delete_round_trip(store):
    """What goes in comes out, is listed with its size and is gone after delete_prefix."""
    srt = b"1\n00:00:00,000 --> 00:00:01,000\nhi\n"
    assert put_bytes(store, "jobs/j1/outputs/a.srt", srt) == len(srt)
    assert store.size("jobs/j1/outputs/a.srt") == len(srt)
    assert read(store, "jobs/j1/outputs/a.srt") == srt
    assert [(e.key, e.size) for e in store.list("jobs/j1/")] == [("jobs/j1/outputs/a.srt", 35)]
    assert store.delete_prefix("jobs/j1/") == 1
    assert store.list("jobs/j1/") == [] and store.size("jobs/j1/outputs/a.srt") is None


def test_put_replaces_an_existing_object(store):
    """A second put under the same key wins whole."""
    put_bytes(store, "k/v", b"old")
    put_bytes(store, "k/v", b"newer")
    assert read(store, "k/v") == b"newer" and store.size("k/v") == 5


def test_binary_content_survives_a_multipart_upload(store, tmp_path):
    """9 MB of random bytes (over the 8 MB part size) come back identical from every path."""
    data = os.urandom(9 * MB)
    source = tmp_path / "random.bin"
    source.write_bytes(data)
    assert store.put("bin/streamed", io.BytesIO(data)) == len(data)
    assert store.put_file("bin/from-file", source) == len(data)
    for key in ("bin/streamed", "bin/from-file"):
        assert store.size(key) == len(data)
        assert read(store, key) == data
        target = tmp_path / f"{key.replace('/', '-')}.out"
        store.download(key, target)
        assert target.read_bytes() == data


def test_open_reads_like_a_binary_file(store):
    """Partial reads, readinto, iteration in chunks and close all behave as on a local file."""
    put_bytes(store, "f/data", bytes(range(256)) * 40)
    with store.open("f/data") as stream:
        assert stream.readable() and stream.read(3) == b"\x00\x01\x02"
        buffer = bytearray(5)
        assert stream.readinto(buffer) == 5 and bytes(buffer) == b"\x03\x04\x05\x06\x07"
        rest = b"".join(iter(lambda: stream.read(1000), b""))
    assert len(rest) == 256 * 40 - 8 and stream.closed


@pytest.mark.parametrize("fail_after", [1024, 12 * MB], ids=["single-part", "multipart"])
def test_put_that_fails_midway_leaves_nothing(store, fail_after):
    """A stream that breaks mid-upload leaves no object, no temp file and no open upload."""
    with pytest.raises(OSError, match="went away"):
        store.put("up/broken.wav", Endless(20 * MB, fail_after=fail_after))
    assert store.size("up/broken.wav") is None
    assert store.list("up/") == []
    assert leftovers(store) == []
    with pytest.raises(FileNotFoundError):
        store.open("up/broken.wav")


def test_a_stream_with_short_reads_is_stored_whole(store):
    """A raw stream returning 64 KB per read still goes up in full parts, intact."""
    size = 20 * MB + 123
    assert store.put("raw/stream", Endless(size)) == size
    assert store.size("raw/stream") == size
    with store.open("raw/stream") as stream:
        assert stream.read(len(Endless.BLOCK) * 3) == Endless.BLOCK * 3
        assert len(stream.read()) == size - len(Endless.BLOCK) * 3


def test_put_that_fails_keeps_the_previous_object(store):
    """Overwriting is atomic too: a broken second put leaves the first one whole."""
    put_bytes(store, "up/kept", b"first version")
    with pytest.raises(OSError):
        store.put("up/kept", Endless(MB, fail_after=1000))
    assert read(store, "up/kept") == b"first version"
    assert leftovers(store) == []


def test_missing_key_is_file_not_found_or_none(store, tmp_path):
    """open and download raise FileNotFoundError (writing nothing); size answers None."""
    target = tmp_path / "out.bin"
    with pytest.raises(FileNotFoundError):
        store.open("nothing/here")
    with pytest.raises(FileNotFoundError):
        store.download("nothing/here", target)
    assert not target.exists()
    assert store.size("nothing/here") is None
    assert store.list("nothing/") == [] and store.delete_prefix("nothing/") == 0


def test_local_path_is_a_file_here_or_none_for_a_bucket(store):
    """Only the local backend has a path; a missing key is still FileNotFoundError there."""
    put_bytes(store, "p/x.vtt", b"WEBVTT\n")
    if isinstance(store, LocalStorage):
        assert store.local_path("p/x.vtt").read_bytes() == b"WEBVTT\n"
        with pytest.raises(FileNotFoundError):
            store.local_path("p/missing.vtt")
    else:
        assert store.local_path("p/x.vtt") is None


@pytest.mark.parametrize(
    "key",
    ["sessions/s1/uploads/f1/Ünïcödé spaced name (1).mp4", "a b/c d/ü 😀.srt", "x/%20+&?#.txt"],
)
def test_unicode_and_space_keys_work(store, key):
    """Names from the wild are stored, listed and read back verbatim."""
    put_bytes(store, key, b"payload")
    assert read(store, key) == b"payload" and store.size(key) == 7
    top = key.split("/")[0] + "/"
    assert [e.key for e in store.list(top)] == [key]
    assert store.delete_prefix(top) == 1


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../b", "a/..", "/abs/key", "a//b", "a/./b", "", "dir/", "nul\0byte"]
)
def test_keys_that_could_escape_or_alias_are_refused(store, key, tmp_path):
    """Both backends refuse the same keys with ValueError, before touching anything."""
    for call in (
        lambda: put_bytes(store, key, b"x"),
        lambda: store.put_file(key, __file__),
        lambda: store.open(key),
        lambda: store.size(key),
        lambda: store.download(key, tmp_path / "out"),
        lambda: store.local_path(key),
    ):
        with pytest.raises(ValueError):
            call()
    if key not in ("dir/",):  # a prefix may end with a slash
        for call in (lambda: store.list(key), lambda: store.delete_prefix(key)):
            with pytest.raises(ValueError):
                call()


def test_list_is_sorted_and_excludes_other_prefixes(store):
    """Keys come sorted, with sizes, and only those that start with the prefix."""
    for key in ["jobs/a/outputs/b.srt", "jobs/a/outputs/a.vtt", "jobs/a/10", "jobs/a/2",
                "jobs/ab/outputs/x.srt", "sessions/a/uploads/f/a.wav"]:  # fmt: skip
        put_bytes(store, key, key.encode())
    expected = ["jobs/a/10", "jobs/a/2", "jobs/a/outputs/a.vtt", "jobs/a/outputs/b.srt"]
    listed = store.list("jobs/a/")
    assert [e.key for e in listed] == expected
    assert all(e.size == len(e.key) for e in listed)
    assert [e.key for e in store.list("jobs/a/outputs/")] == expected[2:]
    # without a trailing slash a prefix is a string prefix, as in S3
    assert [e.key for e in store.list("jobs/a")] == expected + ["jobs/ab/outputs/x.srt"]
    assert store.list("jobs/zzz/") == []


def test_delete_prefix_removes_only_that_prefix_and_counts(store):
    """Siblings whose names merely share the start survive; a second delete finds nothing."""
    keys = ["jobs/a/outputs/1.srt", "jobs/a/outputs/2.srt", "jobs/a/x", "jobs/ab/outputs/1.srt",
            "sessions/jobs/a/1"]  # fmt: skip
    for key in keys:
        put_bytes(store, key, b"x")
    assert store.delete_prefix("jobs/a/") == 3
    assert [e.key for e in store.list("jobs/")] == ["jobs/ab/outputs/1.srt"]
    assert store.size("sessions/jobs/a/1") == 1
    assert store.delete_prefix("jobs/a/") == 0


def test_delete_prefix_handles_more_than_one_batch(store):
    """Over a thousand objects (one DeleteObjects request's limit) all go, and are counted."""
    for i in range(1005):
        put_bytes(store, f"many/{i:04d}", b"")
    assert len(store.list("many/")) == 1005
    assert store.delete_prefix("many/") == 1005
    assert store.list("many/") == []


def test_download_writes_the_exact_bytes(store, tmp_path):
    """download replaces the target with the object's bytes."""
    data = os.urandom(300_000)
    put_bytes(store, "d/audio.wav", data)
    target = tmp_path / "audio.wav"
    target.write_bytes(b"stale and longer" * 100_000)
    store.download("d/audio.wav", target)
    assert target.read_bytes() == data


@pytest.mark.parametrize("method", ["put", "put-short-reads", "put_file"])
def test_put_streams_without_holding_the_file_in_memory(store, tmp_path, method):
    """64 MB go in with a peak of Python memory well under half of that."""
    size = 64 * MB
    if method == "put_file":
        source = tmp_path / "big.bin"
        with open(source, "wb") as out:
            shutil.copyfileobj(Endless(size), out, MB)
    tracemalloc.start()
    try:
        if method == "put":
            assert store.put("big/stream", io.BufferedReader(Endless(size), MB)) == size
        elif method == "put-short-reads":
            assert store.put("big/stream", Endless(size)) == size
        else:
            assert store.put_file("big/file", source) == size
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * MB, f"peak {peak / MB:.1f} MB"
    assert [e.size for e in store.list("big/")] == [size]


def test_open_storage_picks_the_backend_from_the_url(s3_env, tmp_path):
    """s3:// gives a bucket with its prefix; file:// and a plain path give a directory."""
    s3 = open_storage("s3://bucket/pre/fix")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("bucket", "pre/fix/")
    assert s3.client.meta.endpoint_url == s3_env["AWS_ENDPOINT_URL"]  # botocore reads it
    assert open_storage("s3://bucket").prefix == ""
    local = open_storage(f"file://{tmp_path}/x")
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "x"
    assert open_storage(str(tmp_path / "y")).root == tmp_path / "y"
    with pytest.raises(ValueError):
        open_storage("s3://bucket/a/../b")
    with pytest.raises(ValueError):
        open_storage("ftp://host/dir")


def test_the_prefix_never_leaks_into_keys(bucket):
    """Objects sit under the URL's prefix in the bucket; callers only ever see their own keys."""
    store = open_storage(f"s3://{bucket}/tenant/one/")
    put_bytes(store, "jobs/j/outputs/a.srt", b"x")
    raw = store.client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in raw] == ["tenant/one/jobs/j/outputs/a.srt"]
    assert [e.key for e in store.list("jobs/")] == ["jobs/j/outputs/a.srt"]
    other = open_storage(f"s3://{bucket}/tenant/two")
    assert other.list("jobs/") == [] and other.delete_prefix("jobs/") == 0
    assert store.size("jobs/j/outputs/a.srt") == 1


def test_web_stores_serves_and_deletes_uploads_through_the_backend(store, base_env):
    """The app with this STORAGE_URL keeps an upload there, serves it back and deletes it."""
    app = make_app({**base_env, "STORAGE_URL": storage_url(store)})
    client = app.test_client()
    media = DATA / "speech.mp4"
    with open(media, "rb") as f:
        created = client.post("/api/sessions", data={"file": (f, "my talk.mp4")},
                              content_type="multipart/form-data")  # fmt: skip
    assert created.status_code == 201, created.get_json()
    session = created.get_json()
    stored = store.list(f"sessions/{session['id']}/")
    assert [e.size for e in stored] == [media.stat().st_size]
    served = client.get(session["files"][0]["url"])
    if served.status_code == 302:  # a bucket: the player goes to a presigned URL, with ranges
        import httpx

        location = served.headers["Location"]
        served.close()
        whole = httpx.get(location)
        part = httpx.get(location, headers={"Range": "bytes=0-99"})
        assert part.status_code == 206 and part.content == media.read_bytes()[:100]
        assert whole.headers["content-type"] == "video/mp4"
        assert whole.content == media.read_bytes()
    else:
        assert served.status_code == 200 and served.data == media.read_bytes()
        assert served.mimetype == "video/mp4"
        served.close()
        ranged = client.get(session["files"][0]["url"], headers={"Range": "bytes=0-99"})
        assert ranged.status_code == 206 and ranged.data == media.read_bytes()[:100]
        ranged.close()
    assert client.delete(f"/api/sessions/{session['id']}").status_code == 204
    assert store.list(f"sessions/{session['id']}/") == []


def test_web_and_worker_share_nothing_but_redis_and_the_bucket(bucket, base_env, start_worker):
    """A worker with no shared disk reads the upload from the bucket and writes outputs there."""
    env = {**base_env, "STORAGE_URL": f"s3://{bucket}/subcue", "QUEUE_NAME": "subcue-s3"}
    env["TEMP_DIR"] = base_env["TEMP_DIR"] + "-s3-worker"
    start_worker(env)
    client = make_app({**env, "TEMP_DIR": base_env["TEMP_DIR"] + "-s3-web"}).test_client()
    job = upload(client, DATA / "speech.wav", engine="local").get_json()
    job = wait_for_status(client, job["id"], {"finished", "failed", "cancelled"})
    assert job["status"] == "finished", job["error"]
    store = S3Storage(bucket, "subcue")
    names = sorted(e.key.rsplit("/", 1)[1] for e in store.list(f"jobs/{job['id']}/outputs/"))
    assert names == ["speech.en.json", "speech.en.srt", "speech.en.vtt"]
    srt_url = next(o["url"] for o in job["outputs"] if o["name"] == "speech.en.srt")
    served = client.get(srt_url)
    assert served.status_code == 200 and b"-->" in served.data
    served.close()
    assert client.delete(f"/api/sessions/{job['session_id']}").status_code == 204
    assert store.list("jobs/") == [] and store.list("sessions/") == []

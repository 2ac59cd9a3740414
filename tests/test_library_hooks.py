"""Webhooks from Sonarr, Radarr, Jellyfin and Plex with their documented payloads: subtitles
appear next to the media as `<stem>.en.srt`, made by a real worker with the local engine;
paths outside MEDIA_ROOTS are refused; existing subtitles and the media are left alone."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil

import pytest

from jobs.config import Config
from jobs.life import delete, record
from jobs.storage.stores import open_storage

from .helpers import DATA, make_app, stays, wait_for
from .library import TOKEN
from .test_translate import SPOKEN, in_order_ratio, words

JELLYFIN_ITEM = "a3f1c2d4e5b60718293a4b5c6d7e8f90"


@pytest.fixture(scope="module")
def library(library_root, short_speech, tmp_path_factory):
    """The media root with a show (the spoken clip) and four films (its first 4 s, or all of
    it for one to delete while it runs), and a folder outside that a symlink inside points to."""
    root = library_root
    for relative, clip in (("tv/Show/Season 1/Show - S01E01.mp4", DATA / "speech.mp4"),
                           ("movies/Film (2020)/Film.mp4", short_speech),
                           ("movies/Other (2021)/Other.mp4", DATA / "speech.mp4"),
                           ("movies/Plexed (2022)/Plexed.mp4", short_speech),
                           ("movies/Had Subs (2019)/Had Subs.mp4", short_speech)):  # fmt: skip
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(clip, root / relative)
    mine = "1\n00:00:01,000 --> 00:00:02,000\nmine\n"
    (root / "movies/Had Subs (2019)/Had Subs.en.srt").write_text(mine)
    outside = tmp_path_factory.mktemp("private")
    shutil.copy(DATA / "speech.mp4", outside / "secret.mp4")
    (root / "movies/link").symlink_to(outside)
    return root


@pytest.fixture
def client(library_env):
    """A client of the app with the library's settings."""
    return make_app(library_env).test_client()


AUTH = {"Authorization": "Basic " + base64.b64encode(f"sonarr:{TOKEN}".encode()).decode()}
"""Sonarr's and Radarr's username/password fields, as they send them."""


def finished(conn, job_id: str) -> dict:
    """Wait until the job ends; it must have finished."""
    rec = wait_for(lambda: (r := record.get(conn, job_id))["status"] in
                   ("finished", "failed", "cancelled") and r, timeout=90, interval=0.1,
                   message="the library job to end")  # fmt: skip
    assert rec["status"] == "finished", rec.get("error")
    return rec


def spoken_in(path) -> float:
    """Share of the clip's words found in order in an SRT file."""
    return in_order_ratio(words(SPOKEN), words(path.read_text()))


def heard_fox(path) -> bool:
    """True when the SRT of the clip's first 4 s has some of its words ("The quick brown fox
    jumps over the lazy dog")."""
    return len({"quick", "brown", "fox", "jumps", "over", "lazy", "dog"} & set(words(
        path.read_text()))) >= 3  # fmt: skip


def digest(path) -> str:
    """The file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sonarr_download_writes_srt_next_to_the_episode(client, library_worker, library, conn):
    """A Download with `episodeFile.path` as Sonarr sees it (`/tv/...`, mapped), twice: one
    job; `Show - S01E01.en.srt` appears next to the untouched episode."""
    assert client.post("/hooks/sonarr", json={"eventType": "Test"}, headers=AUTH).status_code \
        == 200  # fmt: skip
    episode = library / "tv/Show/Season 1/Show - S01E01.mp4"
    before = digest(episode)
    payload = {"eventType": "Download", "isUpgrade": False,
               "series": {"id": 1, "title": "Show", "path": "/tv/Show"},
               "episodes": [{"id": 11, "episodeNumber": 1, "seasonNumber": 1}],
               "episodeFile": {"id": 5, "relativePath": "Season 1/Show - S01E01.mp4",
                               "path": "/tv/Show/Season 1/Show - S01E01.mp4"}}  # fmt: skip
    first = client.post("/hooks/sonarr", json=payload, headers=AUTH)
    again = client.post("/hooks/sonarr", json=payload, headers=AUTH)
    assert first.status_code == again.status_code == 202, first.get_json()
    assert first.get_json()["jobs"] == again.get_json()["jobs"]
    (job,) = first.get_json()["jobs"]
    assert job["path"] == str(episode)
    rec = finished(conn, job["id"])
    srt_file = episode.with_name("Show - S01E01.en.srt")
    assert rec["written"] == [str(srt_file)]
    assert spoken_in(srt_file) >= 0.6
    assert digest(episode) == before
    assert sorted(p.name for p in episode.parent.iterdir()) == sorted([episode.name, srt_file.name])


def test_radarr_leaves_existing_subtitles_alone(client, library_worker, library, conn):
    """A film that has `.en.srt` already: no job, and the file is the user's as before."""
    mine = library / "movies/Had Subs (2019)/Had Subs.en.srt"
    before = mine.read_text()
    payload = {"eventType": "Download",
               "movie": {"id": 3, "title": "Had Subs",
                         "folderPath": "/data/movies/Had Subs (2019)"},
               "movieFile": {"id": 9, "relativePath": "Had Subs.mp4"}}  # fmt: skip
    answer = client.post("/hooks/radarr", json=payload, headers=AUTH)
    assert answer.status_code == 202 and answer.get_json() == {"jobs": []}
    assert mine.read_text() == before


@pytest.mark.parametrize("path", ["/data/movies/../../private/secret.mp4",
                                  "/data/movies/link/secret.mp4", "/etc/hostname"])  # fmt: skip
def test_paths_outside_media_roots_are_refused(client, library, path, conn):
    """`..`, a symlink out of the root, and a path no map covers: 403, nothing queued or
    written."""
    before = set(conn.keys("subcue:job:*"))
    payload = {"eventType": "Download", "movie": {"id": 4, "title": "X"},
               "movieFile": {"id": 1, "path": path}}  # fmt: skip
    answer = client.post("/hooks/radarr", json=payload, headers=AUTH)
    assert answer.status_code == 403
    assert answer.get_json()["error"]["code"] == "outside_media_roots"
    assert set(conn.keys("subcue:job:*")) == before
    assert sorted(p.name for p in (library / "movies/link").resolve().iterdir()) == ["secret.mp4"]


def test_jellyfin_item_added_looks_up_the_file_and_refreshes(client, library_worker, library,
                                                            media_servers, conn):  # fmt: skip
    """ItemAdded names an item id: its path comes from Jellyfin's API, its subtitles are
    written, and Jellyfin is asked to refresh that item."""
    media_servers.items[JELLYFIN_ITEM] = "/data/movies/Film (2020)/Film.mp4"
    payload = {"NotificationType": "ItemAdded", "ItemId": JELLYFIN_ITEM, "ItemType": "Movie",
               "Name": "Film", "ServerName": "jellyfin", "Year": 2020}  # fmt: skip
    answer = client.post(f"/hooks/jellyfin?token={TOKEN}", json=payload)
    assert answer.status_code == 202, answer.get_json()
    finished(conn, answer.get_json()["jobs"][0]["id"])
    assert heard_fox(library / "movies/Film (2020)/Film.en.srt")
    assert ("POST", f"/Items/{JELLYFIN_ITEM}/Refresh") in media_servers.calls


def test_plex_library_new_looks_up_the_file_and_refreshes(client, library_worker, library,
                                                         media_servers, conn):  # fmt: skip
    """Plex's multipart `payload`: the ratingKey's file from Plex's API, then a refresh."""
    media_servers.items["4242"] = "/data/movies/Plexed (2022)/Plexed.mp4"
    payload = {"event": "library.new", "user": True, "owner": True,
               "Account": {"id": 1, "title": "me"}, "Server": {"title": "plex"},
               "Metadata": {"librarySectionType": "movie", "ratingKey": "4242",
                            "type": "movie", "title": "Plexed"}}  # fmt: skip
    answer = client.post(f"/hooks/plex?token={TOKEN}", data={"payload": json.dumps(payload)})
    assert answer.status_code == 202, answer.get_json()
    finished(conn, answer.get_json()["jobs"][0]["id"])
    assert heard_fox(library / "movies/Plexed (2022)/Plexed.en.srt")
    assert ("PUT", "/library/metadata/4242/refresh") in media_servers.calls


def test_webhooks_need_the_token(client, library):
    """Without the token: 401, nothing read."""
    payload = {
        "eventType": "Download",
        "movieFile": {"path": "/data/movies/Other (2021)/Other.mp4"},
    }
    assert client.post("/hooks/radarr", json=payload).status_code == 401
    assert not (library / "movies/Other (2021)/Other.en.srt").exists()


def test_deleting_a_running_library_job_leaves_the_folder_as_it_was(
    client, library_worker, library, conn, library_env
):
    """Deleted mid-transcription: the media unchanged, no subtitle or temporary file beside
    it, and none appearing afterwards."""
    film = library / "movies/Other (2021)/Other.mp4"
    before = digest(film)
    payload = {"eventType": "Download", "movie": {"id": 6, "title": "Other"},
               "movieFile": {"id": 2, "path": "/data/movies/Other (2021)/Other.mp4"}}  # fmt: skip
    answer = client.post("/hooks/radarr", json=payload, headers=AUTH)
    (job,) = answer.get_json()["jobs"]
    wait_for(lambda: record.get(conn, job["id"])["status"] == "running", timeout=30,
             message="the library job to run")  # fmt: skip
    config = Config.from_env(library_env)
    delete.delete_job(conn, config, open_storage(config.storage_url), job["id"])
    assert not conn.exists(f"subcue:job:{job['id']}")
    stays(lambda: [p.name for p in film.parent.iterdir()] == ["Other.mp4"], seconds=1.5,
          message="only the film in its folder")  # fmt: skip
    assert digest(film) == before

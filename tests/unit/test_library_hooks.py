"""web/library_routes/sonarr.py and radarr.py: their webhook payloads as media paths."""

from web.library_routes.radarr import RadarrSource
from web.library_routes.sonarr import SonarrSource


def test_sonarr_names_every_imported_episode():
    """`episodeFile.path`, `episodeFiles[].path`, or `relativePath` under the series folder."""
    payload = {"eventType": "Download", "series": {"path": "/tv/Show"},
               "episodeFile": {"path": "/tv/Show/S01/e1.mkv"},
               "episodeFiles": [{"relativePath": "S01/e2.mkv"}, {"id": 3}]}  # fmt: skip
    assert SonarrSource().notice(payload).paths == ["/tv/Show/S01/e1.mkv", "/tv/Show/S01/e2.mkv"]


def test_tests_and_other_events_start_nothing():
    """Test is a test; a Grab or a Rename names no new file."""
    assert SonarrSource().notice({"eventType": "Test"}).test
    assert RadarrSource().notice({"eventType": "Test"}).test
    for event in ("Grab", "Rename", "MovieDelete", None):
        told = RadarrSource().notice({"eventType": event, "movieFile": {"path": "/m/a.mkv"}})
        assert not told.test and told.paths == []


def test_radarr_names_the_movie_file():
    """`movieFile.path`, or `relativePath` under `movie.folderPath`; junk types are ignored."""
    assert RadarrSource().notice(
        {"eventType": "Download", "movieFile": {"path": "/m/F/F.mkv"}}
    ).paths == ["/m/F/F.mkv"]
    old = {"eventType": "Download", "movie": {"folderPath": "/m/F"},
           "movieFile": {"relativePath": "F.mkv"}}  # fmt: skip
    assert RadarrSource().notice(old).paths == ["/m/F/F.mkv"]
    assert RadarrSource().notice({"eventType": "Download", "movieFile": {"path": 7}}).paths == []

"""Repositories on SQLite and PostgreSQL: writes commit and validate, reads add up."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.storage.helpers import make_recommendation
from tunelens.core.errors import InvalidRequest, NotFound
from tunelens.storage import repository as repo
from tunelens.storage.db import Database, Prediction, utcnow


def test_prediction_round_trip(db: Database) -> None:
    rec = make_recommendation([("a", "Artist A", "pop"), ("b", "Artist B", None)])
    pid = repo.record_prediction(db, rec, client_id="client-1")
    assert len(pid) == 32
    stored = repo.get_prediction(db, pid)
    assert stored is not None
    assert stored.track_ids == ["a", "b"]
    assert stored.tracks[0].artist == "Artist A"
    assert stored.tracks[1].genre is None
    assert stored.top_emotion == "contentment"
    assert stored.top_genre == "pop"
    assert stored.image_sha256 == rec.image_sha256
    assert stored.latency_ms == pytest.approx(28.0)
    assert stored.reading["top_emotion"] == "contentment"
    assert stored.created_at.tzinfo is not None
    assert abs(stored.created_at - utcnow()) < timedelta(minutes=1)
    assert repo.get_prediction(db, "0" * 32) is None

    own = repo.record_prediction(db, rec, prediction_id="ab" * 16)
    assert own == "ab" * 16 and repo.get_prediction(db, own) is not None
    with pytest.raises(InvalidRequest):
        repo.record_prediction(db, rec, prediction_id="../x")


def test_feedback_validation_and_copying(db: Database) -> None:
    pid = repo.record_prediction(
        db, make_recommendation([("a", "Artist A", "rock")]), client_id="c1"
    )
    fid = repo.record_feedback(
        db, prediction_id=pid, track_id="a", kind="like", comment=" nice ", client_id="c1"
    )
    fid2 = repo.record_feedback(db, track_id="z", kind="played", client_id="c2")
    assert fid2 > fid > 0
    votes = repo.track_votes(db)
    assert votes["a"].likes == 1
    assert "z" not in votes  # played is engagement, not an opinion
    opinions = repo.client_opinions(db, "c1")  # artist copied from the prediction's list
    assert [(o.track_id, o.kind, o.artist) for o in opinions] == [("a", "like", "Artist A")]
    summary = repo.stats_summary(db)
    assert summary.like_rate_by_genre == {"rock": {"likes": 1, "dislikes": 0, "rate": 1.0}}

    with pytest.raises(InvalidRequest) as bad_kind:
        repo.record_feedback(db, track_id="a", kind="love")
    assert bad_kind.value.code == "invalid_feedback_kind"
    with pytest.raises(NotFound) as missing:
        repo.record_feedback(db, prediction_id="f" * 32, track_id="a", kind="like")
    assert missing.value.code == "prediction_not_found"
    # a prediction made for a client is theirs alone: another client, or nobody, naming it is
    # told exactly what an unknown id is told, and it never takes over the owner's id
    for stranger in ("c2", None):
        with pytest.raises(NotFound) as foreign:
            repo.record_feedback(
                db, prediction_id=pid, track_id="a", kind="dislike", client_id=stranger
            )
        assert foreign.value.code == "prediction_not_found"
    anonymous = repo.record_prediction(db, make_recommendation([("a", "Artist A", "rock")]))
    repo.record_feedback(db, prediction_id=anonymous, track_id="a", kind="like", client_id="c2")
    with pytest.raises(InvalidRequest) as long_comment:
        repo.record_feedback(db, track_id="a", kind="like", comment="x" * 1001)
    assert long_comment.value.code == "comment_too_long"
    with pytest.raises(InvalidRequest) as bad_client:
        repo.record_feedback(db, track_id="a", kind="like", client_id="a b/c")
    assert bad_client.value.code == "invalid_client_id"
    assert repo.stats_summary(db).feedback["like"] == 2  # nothing half-written


def test_latest_opinion_per_voter_counts_once(db: Database) -> None:
    for kind in ("dislike", "dislike", "like"):  # changed their mind: one like
        repo.record_feedback(db, track_id="t", kind=kind, client_id="fickle")
    for _ in range(3):
        repo.record_feedback(db, track_id="t", kind="dislike", client_id="grumpy")
    repo.record_feedback(db, track_id="t", kind="not_interested")  # anonymous: own voter
    repo.record_feedback(db, track_id="t", kind="not_interested")
    repo.record_feedback(db, track_id="u", kind="like", client_id="grumpy")
    votes = repo.track_votes(db)
    assert votes["t"] == repo.Votes(likes=1, dislikes=1, not_interested=2)
    assert repo.track_votes(db, ["u"]) == {"u": repo.Votes(likes=1)}
    assert repo.track_votes(db, []) == {}
    opinions = repo.client_opinions(db, "grumpy")
    assert [o.track_id for o in opinions] == ["u", "t"]  # newest first


def test_upload_rows_are_idempotent_and_never_downgraded(db: Database) -> None:
    digest = hashlib.sha256(b"pic").hexdigest()
    repo.record_upload(
        db, repo.UploadRecord(sha256=digest, consent=True, status="pending", size_bytes=10)
    )
    repo.record_upload(
        db, repo.UploadRecord(sha256=digest, consent=True, status="stored", location="s3://b/k")
    )
    repo.record_upload(db, repo.UploadRecord(sha256=digest, consent=False, status="declined"))
    repo.record_upload(db, repo.UploadRecord(sha256=digest, consent=True, status="pending"))
    row = repo.get_upload(db, digest)
    assert row is not None
    assert (row.status, row.consent, row.location) == ("stored", True, "s3://b/k")
    assert row.stored_at is not None
    with pytest.raises(InvalidRequest):
        repo.record_upload(
            db, repo.UploadRecord(sha256="../etc/passwd", consent=True, status="stored")
        )


def test_deleting_upload_rows_forgets_the_picture_everywhere(db: Database) -> None:
    rec = make_recommendation([("a", "A", None)], image=b"secret picture")
    pid = repo.record_prediction(db, rec)
    repo.record_upload(
        db,
        repo.UploadRecord(
            sha256=rec.image_sha256, consent=True, status="stored", prediction_id=pid
        ),
    )
    assert repo.delete_upload_rows(db, [rec.image_sha256]) == 1
    assert repo.get_upload(db, rec.image_sha256) is None
    prediction = repo.get_prediction(db, pid)
    assert prediction is not None and prediction.image_sha256 is None
    assert prediction.track_ids == ["a"]  # the prediction itself stays


def test_stats_summary_figures(db: Database) -> None:
    liked: list[str] = []
    for i, emotion in enumerate(["awe", "awe", "sadness", "excitement"]):
        rec = make_recommendation(
            [("a", "A", "pop"), (f"x{i}", "X", "rock")],
            top_emotion=emotion,
            timings={"read": float(10 * (i + 1))},
        )
        pid = repo.record_prediction(db, rec, client_id=f"c{i}")
        kind = "like" if emotion == "awe" else "dislike"
        repo.record_feedback(db, prediction_id=pid, track_id="a", kind=kind, client_id=f"c{i}")
        liked.append(pid)
    repo.record_upload(
        db,
        repo.UploadRecord(
            sha256="1" * 64, consent=True, status="stored", size_bytes=1000, location="x"
        ),
    )
    repo.record_upload(
        db, repo.UploadRecord(sha256="2" * 64, consent=True, status="pending", size_bytes=5)
    )
    repo.record_upload(db, repo.UploadRecord(sha256="3" * 64, consent=False, status="declined"))
    # an old prediction outside the per-day window
    with db.write() as session:
        session.execute(
            update(Prediction)
            .where(Prediction.id == liked[0])
            .values(created_at=utcnow() - timedelta(days=90))
        )

    summary = repo.stats_summary(db, days=30, top=3)
    data = summary.to_dict()
    assert data["predictions"] == 4
    assert data["latency_ms"] == {"p50": 25.0, "p95": 38.5, "n": 4}
    assert data["predictions_by_emotion"] == {"awe": 2, "excitement": 1, "sadness": 1}
    assert sum(sum(day["counts"].values()) for day in data["emotion_by_day"]) == 3
    assert data["feedback"] == {"like": 2, "dislike": 2, "not_interested": 0, "played": 0}
    assert data["like_rate"] == 0.5
    assert data["like_rate_by_emotion"]["awe"] == {"likes": 2, "dislikes": 0, "rate": 1.0}
    assert data["like_rate_by_emotion"]["sadness"]["rate"] == 0.0
    assert data["most_recommended"][0] == {
        "track_id": "a",
        "title": "Song a",
        "artist": "A",
        "count": 4,
    }
    assert data["most_liked"] == [{"track_id": "a", "title": "Song a", "artist": "A", "likes": 2}]
    assert data["uploads"] == {"stored": 1, "pending": 1, "declined": 1, "stored_bytes": 1000}


def test_concurrent_writers_all_land(db: Database) -> None:
    """Eight threads writing at once: no 'database is locked', no lost row."""
    ids: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        try:
            for i in range(15):
                fid = repo.record_feedback(
                    db, track_id=f"t{i}", kind="like", client_id=f"w{n}", artist="A"
                )
                with lock:
                    ids.append(fid)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(set(ids)) == 120
    assert repo.stats_summary(db).feedback["like"] == 120

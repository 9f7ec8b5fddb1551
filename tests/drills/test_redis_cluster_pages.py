"""The status read cache on a Redis Cluster of the test's own (issue 15.7): pages spread over the masters by
student, and /readyz reports a dead master."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from server.readcache import page_key
from tests.drills.servers import RedisCluster
from tests.factories import cleared_student, make_batch, student_token

TIMEOUT = 10
STUDENTS = 24


@pytest.fixture
def cluster() -> Iterator[RedisCluster]:
    """Three masters (`redis-server --cluster-enabled yes`, joined by `redis-cli --cluster create`)."""
    servers = RedisCluster()
    yield servers
    servers.close()


@pytest.fixture
def overrides(cluster: RedisCluster) -> dict[str, Any]:
    """The app on the cluster."""
    return {"redis_url": cluster.url}


def test_pages_spread_over_the_masters_and_readyz_sees_a_dead_one(app, live, session, settings, cluster):
    from redis.cluster import RedisCluster as ClusterClient

    state = app.extensions["lixiao"]
    assert isinstance(state.redis, ClusterClient) and state.pages is not None
    batch = make_batch(session)
    students = [cleared_student(session, batch) for _ in range(STUDENTS)]
    session.commit()
    for student in students:
        token = student_token(session, settings, student)
        answer = requests.get(f"{live.url}/api/v1/me/clearance", headers={"Authorization": f"Bearer {token}"},
                              timeout=TIMEOUT)
        assert answer.status_code == 200, answer.text
    keys = list(state.redis.scan_iter(match="lixiao:page:*", target_nodes=ClusterClient.PRIMARIES))
    assert len(keys) == STUDENTS
    epoch = keys[0].split(":")[2]
    assert sorted(keys) == sorted(page_key(epoch, s.id) for s in students)
    slots = {state.redis.keyslot(key) for key in keys}
    assert len(slots) > STUDENTS // 2, "one student's key per slot, not one slot for all"
    per_node = [n for n in cluster.keys_per_node() if n]
    assert len(per_node) == 3 and max(per_node) < STUDENTS, per_node

    assert requests.get(f"{live.url}/readyz", timeout=TIMEOUT).status_code == 200
    cluster.kill(1)
    try:
        ready = requests.get(f"{live.url}/readyz", timeout=TIMEOUT)
        assert ready.status_code == 503 and "redis" in ready.json()["problems"], ready.text
    finally:
        cluster.restart(1)
    assert requests.get(f"{live.url}/readyz", timeout=TIMEOUT).status_code == 200

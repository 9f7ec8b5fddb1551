"""Lixiao on a Redis Cluster (`redis+cluster://`): three redis-server processes of the test's own.

Everything that uses Redis works when keys are spread over slots on several nodes: login rate limits, the
WeChat session key, the bind state through a CAS login, the departmental replay guard, the shared platform
access token and its lock (a subscribe message pushed by the worker), and the WeCom limiter's MULTI over two
windows (one slot, by its hash tag).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from server.messaging.ratelimit import SlidingWindowLimiter
from server.messaging.worker import Worker
from server.timeutil import utcnow
from tests.departments.signing import signed
from tests.drills.servers import RedisCluster
from tests.factories import ALL_PASSED, make_batch, make_student, set_records
from tests.identity.flows import bind, me, token_for
from tests.security.world import build_world

TIMEOUT = 10
PER_IP = 3


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisCluster]:
    """A three-node Redis Cluster, started once for this module."""
    servers = RedisCluster()
    yield servers
    servers.close()


@pytest.fixture
def overrides(cluster: RedisCluster) -> dict[str, Any]:
    """The app on the cluster, with a login limit small enough to reach."""
    return {"redis_url": cluster.url, "rate_limit_per_ip": PER_IP}


def test_every_use_of_redis_works_on_a_cluster(app, live, session, settings, emulator, cluster):
    from redis.cluster import RedisCluster as ClusterClient

    state = app.extensions["lixiao"]
    assert isinstance(state.redis, ClusterClient)
    assert requests.get(f"{live.url}/readyz", timeout=TIMEOUT).json() == {"status": "ok", "problems": {}}

    # Login limits, the session key and the bind state (a CAS round trip).
    student = make_student(session, make_batch(session), name="集群甲")
    set_records(session, student, ALL_PASSED)
    session.commit()
    emulator.add_cas_users({"username": student.student_no, "password": "pw"})
    token = token_for(live.url, emulator, "o-cluster")
    assert bind(live.url, token, student.student_no, "pw").status_code == 200
    assert me(live.url, token).json()["student"]["student_no"] == student.student_no
    assert list(state.redis.scan_iter(match="lixiao:wx_session_key:*"))
    statuses = [requests.get(f"{live.url}/login", allow_redirects=False, timeout=TIMEOUT).status_code
                for _ in range(PER_IP + 1)]
    assert statuses == [302] * PER_IP + [429]

    # The departmental replay guard: the very same signed request twice.
    world = build_world(session, settings, live.url)
    key = world.keys["library"]
    stamp = int(time.time())
    first = signed(live.url, "PUT", f"/api/v1/departments/library/records/{world.b.student_no}", {"owed_books": 0},
                   key_id=key.key_id, secret=key.secret, timestamp=stamp)
    again = signed(live.url, "PUT", f"/api/v1/departments/library/records/{world.b.student_no}", {"owed_books": 0},
                   key_id=key.key_id, secret=key.secret, timestamp=stamp)
    assert first.status_code == 200 and again.status_code == 409, (first.text, again.text)

    # The shared access token and its fetch lock: the worker pushes "certificate issued".
    auth = {"Authorization": f"Bearer {token}"}
    assert requests.post(f"{live.url}/api/v1/me/subscriptions", json={"accepted": ["certificate_issued"]},
                         headers=auth, timeout=TIMEOUT).status_code == 200
    emulator.set_quota("o-cluster", settings.wx_template_certificate_issued, 1)
    assert requests.post(f"{live.url}/api/v1/me/application", headers=auth, json={"confirm": True},
                         timeout=TIMEOUT).status_code == 201
    worker = Worker(state.settings, engine=state.engine, redis_client=state.redis, sources=state.sources)
    assert worker.run_once() >= 1 and emulator.messages("wechat")
    assert list(state.redis.scan_iter(match="lixiao:wechatpy:*"))

    # The WeCom limiter's MULTI over both windows of a member (CROSSSLOT if they were in different slots).
    limiter = SlidingWindowLimiter(state.redis, "lixiao:wecom-rate", [(2, 60.0), (1000, 3600.0)])
    now = utcnow().timestamp()
    assert [limiter.acquire("cluster-member", now + i * 0.01) for i in range(2)] == [0.0, 0.0]
    assert limiter.acquire("cluster-member", now + 0.05) > 0

    assert sum(1 for n in cluster.keys_per_node() if n) >= 2, "the keys should be spread over the nodes"

"""Liveness and readiness probes."""

from __future__ import annotations

import copy

import pytest


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_every_service(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "channel_layer"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_readyz_reports_an_unreachable_cache(client, settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"] = {
        "BACKEND": "backend.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
    settings.CACHES = caches
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"]["ok"] is False and "Connection" in body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_probes_refuse_other_methods(client):
    assert client.post("/healthz").status_code == 405

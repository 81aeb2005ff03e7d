"""Settings from the environment: production refuses unsafe defaults with one readable message, and the server
refuses to start, with one message, when a required service is unreachable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backend.config import ConfigError, Env

ROOT = Path(__file__).resolve().parent.parent
GOOD_PRODUCTION = {
    "SIMPUL_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-for-the-configuration-test",
    "JWT_SIGNING_KEY": "j" * 40,
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "ALLOWED_HOSTS": "simpul.example.go.id",
    "SMS_BACKEND": "notifications.sms.HttpSMSBackend",
    "SMS_HTTP_URL": "https://sms-gateway.example.go.id/send",
    "FIELD_ENCRYPTION_KEYS": "hxeSWcLuDiGfNHkSgqd0d4u3P_JWxkNIzJZN4n8tVlE=",
    "NIK_HASH_KEY": "n" * 40,
    "PUBLIC_BASE_URL": "https://simpul.example.go.id",
}


def run(args, env, timeout=60):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SIMPUL_", "DATABASE_", "REDIS_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=timeout
    )


def test_env_collects_problems_instead_of_raising():
    env = Env({"A": "maybe", "B": "x", "C": "-1"})
    assert env.bool("A", True) is True
    assert env.int("B", 3) == 3
    assert env.int("C", 3, minimum=0) == 3
    assert env.list("MISSING", ["x"]) == ["x"]
    assert len(env.problems) == 3
    assert "A must be true or false" in env.problems[0]
    message = str(ConfigError(env.problems))
    assert message.startswith("Simpul cannot start") and message.count("\n  - ") == 3


def test_production_without_configuration_lists_every_problem_at_once():
    result = run(["manage.py", "check"], {"SIMPUL_ENV": "production"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for name in (
        "SECRET_KEY",
        "JWT_SIGNING_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_HOSTS",
        "FIELD_ENCRYPTION_KEYS",
        "NIK_HASH_KEY",
        "PUBLIC_BASE_URL",
    ):
        assert name in result.stderr
    assert result.stderr.startswith("Simpul cannot start; fix the configuration:")


def test_production_refuses_sqlite_debug_and_short_secrets():
    env = {**GOOD_PRODUCTION, "DATABASE_URL": "sqlite:////tmp/x.sqlite3", "DJANGO_DEBUG": "true", "SECRET_KEY": "short"}
    result = run(["manage.py", "check"], env)
    assert result.returncode == 2
    assert "PostgreSQL" in result.stderr and "DEBUG" in result.stderr and "50 characters" in result.stderr


def test_production_refuses_to_send_codes_to_the_log():
    env = {**GOOD_PRODUCTION, "SMS_BACKEND": "notifications.sms.LogSMSBackend"}
    result = run(["manage.py", "check"], env)
    assert result.returncode == 2 and "SMS_BACKEND must be a real gateway" in result.stderr
    assert run(["manage.py", "check"], {**env, "SMS_LOG_IN_PRODUCTION": "true"}).returncode == 0


def test_deploy_check_passes_for_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], GOOD_PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize(
    ("override", "service"),
    [
        ({"DATABASE_URL": "postgres://postgres@127.0.0.1:1/simpul"}, "database at postgres://127.0.0.1:1/simpul"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "cache at redis://127.0.0.1:1/0"),
    ],
)
@pytest.mark.parametrize("entry_point", ["backend.asgi", "backend.wsgi"])
def test_server_start_names_the_unreachable_service(override, service, entry_point):
    result = run(["-c", f"import {entry_point}"], {**GOOD_PRODUCTION, **override})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Simpul cannot start; a required service is down:")
    assert service in result.stderr


def test_configuration_doc_lists_every_variable():
    import re

    names = set(
        re.findall(
            r'env\.(?:str|bool|int|list|path|require)\(\s*"([A-Z0-9_]+)"', (ROOT / "backend/settings.py").read_text()
        )
    )
    documented = (ROOT / "docs/configuration.md").read_text()
    missing = sorted(n for n in names if f"`{n}`" not in documented)
    assert names and not missing, f"add to docs/configuration.md: {missing}"


def test_the_channel_layer_waits_longer_for_redis_than_a_receive_blocks_there():
    """A WebSocket consumer's receive blocks in Redis for channels-redis's `brpop_timeout`; a read timeout at or under
    it closed every idle socket (1011). tests/notifications/test_soak.py shows it on the real topology."""
    from channels_redis.core import RedisChannelLayer

    code = (
        "import django, json; django.setup(); from django.conf import settings; "
        "print(json.dumps(settings.CHANNEL_LAYERS['default']['CONFIG']['hosts']))"
    )
    for configured in ({}, {"CHANNEL_LAYER_READ_TIMEOUT_SECONDS": "6"}):
        env = {"DJANGO_SETTINGS_MODULE": "backend.settings", "REDIS_URL": "redis://127.0.0.1:6379/0", **configured}
        result = run(["-c", code], env)
        assert result.returncode == 0, result.stderr
        (host,) = json.loads(result.stdout)
        assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout
        assert host["socket_connect_timeout"] <= 2

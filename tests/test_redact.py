"""Redaction: what must go (true positives), what must stay (false positives that would corrupt traces, code and
reports), registered secrets, structured data."""

from __future__ import annotations

import ast
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest
from pydantic import BaseModel, SecretStr

from cloudinspect.redact import (
    REDACTED,
    clear_secrets,
    is_secret_name,
    marker,
    redact_data,
    redact_text,
    register_env_secrets,
    register_secret,
)

RESOURCES = Path(__file__).resolve().parents[1] / "src" / "cloudinspect" / "resources"

# Key-shaped values are built by concatenation so that secret scanners never see them in the repository.
KEY_ID = "AKIA" + "Z7QW3E5R9T1Y2U3I"
TEMP_KEY_ID = "ASIA" + "Q2W4E6R8T0Y1U3I5"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ9plant"
SESSION_TOKEN = "IQoJb3JpZ2lu" + "X2VjEJr//////////wEaCXVzLWVhc3QtMSJGMEQCIBx"
OPENAI_KEY = "sk-proj-" + "abc123DEF456ghi789JKL012"
ANTHROPIC_KEY = "sk-ant-" + "api03-abcdefghijklmnop1234567890"
GITHUB_TOKEN = "ghp_" + "aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
JWT = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    clear_secrets()
    yield
    clear_secrets()


# --- names ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "api_key",
        "apiKey",
        "x-api-key",
        "OPENAI_API_KEY",
        "LANGSMITH_API_KEY",
        "aws_secret_access_key",
        "SecretAccessKey",
        "AWS_SESSION_TOKEN",
        "SessionToken",
        "GITHUB_TOKEN",
        "access_token",
        "token",
        "client_secret",
        "SecretString",
        "PasswordData",
        "DB_PASSWORD",
        "PGPASSWORD",
        "password",
        "passphrase",
        "Authorization",
        "cookie",
        "Credentials",
        "private_key",
        "SSECustomerKey",
        "Plaintext",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "NextToken",
        "nextForwardToken",
        "ContinuationToken",
        "ClientToken",
        "max_tokens",
        "input_tokens",
        "CHARS_PER_TOKEN",
        "tokenizer",
        "SecretId",
        "secret_name",
        "SecretArn",
        "secrets",
        "secretsmanager",
        "secret_env_names",
        "PasswordLastUsed",
        "PasswordPolicy",
        "MinimumPasswordLength",
        "AuthorizationType",
        "access_key_id",
        "AccessKeyId",
        "KmsKeyId",
        "Key",
        "public_key",
        "PWD",
        "usage_metadata",
    ],
)
def test_names_that_only_mention_secrets(name: str) -> None:
    assert not is_secret_name(name)


# --- text: what goes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (f"key {KEY_ID} is stale", KEY_ID, "aws-access-key-id:...2U3I"),
        (f"temporary {TEMP_KEY_ID}", TEMP_KEY_ID, "aws-access-key-id:...U3I5"),
        (f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET, "secret"),
        (f'"SecretAccessKey": "{AWS_SECRET}"', AWS_SECRET, "secret"),
        (f"AWS_SESSION_TOKEN={SESSION_TOKEN}", SESSION_TOKEN, "aws-session-token"),
        (f"token {SESSION_TOKEN} expired", SESSION_TOKEN, "aws-session-token"),
        (f"export OPENAI_API_KEY={OPENAI_KEY}", OPENAI_KEY, "api-key"),
        (f"Incorrect API key provided: {OPENAI_KEY}.", OPENAI_KEY, "api-key"),
        (f"--api-key {ANTHROPIC_KEY} --model x", ANTHROPIC_KEY, "api-key"),
        (f"push with {GITHUB_TOKEN}", GITHUB_TOKEN, "api-key"),
        (f"id_token={JWT}", JWT, "jwt"),
        ("Authorization: Bearer abcdef123456.xyz", "Bearer abcdef123456.xyz", "authorization"),
        ('{"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}', "dXNlcjpwYXNzd29yZA==", "authorization"),
        ("curl -H 'bearer 9f8e7d6c5b4a3210'", "9f8e7d6c5b4a3210", "bearer"),
        ("{'x-api-key': 'k3y-v4lue-1234'}", "k3y-v4lue-1234", "secret"),
        ("postgres://admin:s3cr3tPass@db.example.com:5432/app", "s3cr3tPass", "url-password"),
        ("GET https://h.test/v1/models?key=s3cr3tvalue9 failed", "s3cr3tvalue9", "url-param"),
        ("https://b.s3.amazonaws.com/o?X-Amz-Signature=abc123def456&x=1", "abc123def456", "url-param"),
        ("DB_PASSWORD=hunter2hunter", "hunter2hunter", "secret"),
        ("password: hunter2", "hunter2", "secret"),
        ("client_secret='abcDEF123ghi'", "abcDEF123ghi", "secret"),
        ('{"passphrase": "correct horse battery staple"}', "correct horse battery staple", "secret"),
        ('{"SecretString": "{\\"user\\":\\"a\\",\\"pass\\":\\"zzz9\\"}"}', "zzz9", "secret"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----", "MIIEow", "private-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk (truncated)", "b3BlbnNzaC1rZXk", "private-key"),
        ("stripe " + "sk_live_" + "51H8abcDEF0123456789xyz", "51H8abcDEF0123456789xyz", "api-key"),
    ],
)
def test_secrets_in_text_are_redacted(text: str, secret: str, kind: str) -> None:
    redacted = redact_text(text)
    assert secret not in redacted
    assert marker(kind) in redacted


def test_an_access_key_id_keeps_its_last_four_characters_only() -> None:
    other = "AKIA" + "Z7QW3E5R9T1YABCD"
    assert redact_text(f"{KEY_ID},{other}") == (
        "[REDACTED:aws-access-key-id:...2U3I],[REDACTED:aws-access-key-id:...ABCD]"
    )


def test_only_the_value_is_replaced() -> None:
    assert redact_text(f"export OPENAI_API_KEY={OPENAI_KEY} # dev") == "export OPENAI_API_KEY=[REDACTED:api-key] # dev"
    assert redact_text("url: mysql://admin:password123@db/app") == "url: mysql://admin:[REDACTED:url-password]@db/app"


# --- text: what stays ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # identifiers and hashes
        "i-0abc1234def567890 ami-0abcdef1234567890 vol-0123456789abcdef0 sg-0a1b2c3d",
        "arn:aws:iam::123456789012:role/cloudinspect-read-only",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-AbCdEf",
        "arn:aws:ssm:us-east-1:123456789012:parameter/app/token",
        "UserId AIDAJQABLZS4A3QDU576Q RoleId AROA1234567890EXAMPLE",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "commit da39a3ee5e6b4b0d3255bfef95601890afd80709",
        '"ETag": "\\"9b2cf535f27731c974343645a3985328\\""',
        "RequestId: 6f0e8c1a-7b2d-4e5f-9a3b-2c1d0e9f8a7b",
        # documented placeholders
        "AKIAIOSFODNN7EXAMPLE",
        "aws_access_key_id = AKIADUMMYEXAMPLE0000",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        # code that handles secrets without holding one
        "password = os.environ['DB_PASSWORD']",
        "api_key: str | None = None",
        "def signing_scope(authorization: str) -> tuple[str, str] | None:",
        "authorization = header_values(headers, 'Authorization')",
        "kwargs['NextToken'] = token; resp = ec2.describe_instances(NextToken=token)",
        "token = page.get('NextToken')",
        'secret = sm.get_secret_value(SecretId=name)["SecretString"]',
        "self.password = password",
        "ChatOpenAI(api_key=api_key, base_url=base_url)",
        'headers = {"Authorization": f"Bearer {token}"}',
        'f"postgres://{user}:{password}@{host}"',
        "export OPENAI_API_KEY=$OPENAI_API_KEY",
        "CHARS_PER_TOKEN = 3.5",
        "max_tokens=512 input_tokens: 10 output_tokens: 3",
        # prose
        "the auth step failed: check the API key and its permissions",
        "the sklearn module sk-learn-compatible-estimators",
        "set the token limit to 4096 tokens",
        "AllowUsersToChangePassword: true",
        "",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_catalogue_reference_scripts_are_unchanged() -> None:
    # The reference scripts are what generated code looks like: redaction must not touch any of them.
    scripts = sorted((RESOURCES / "catalog").rglob("*.py"))
    assert len(scripts) > 40
    changed = [p.name for p in scripts if redact_text(p.read_text(encoding="utf-8")) != p.read_text(encoding="utf-8")]
    assert changed == []


def test_no_output_key_of_the_catalogue_looks_secret() -> None:
    # Keys of the catalogue's outputs ("access_key_id", "secret_env_names", "secrets"...) keep their values.
    keys: set[str] = set()
    for path in (RESOURCES / "catalog").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
    assert len(keys) > 100
    assert sorted(k for k in keys if is_secret_name(k)) == []


def test_scenario_secrets_are_redacted() -> None:
    # The scenarios plant secrets in ECS task definitions so that prompts can find them: they are found here too.
    # (A plain SSM parameter "value: password123" has no secret-looking name next to it: that one stays.)
    text = (RESOURCES / "scenarios" / "aws" / "startup.yaml").read_text(encoding="utf-8")
    redacted = redact_text(text)
    for planted in ("admin:password123@", "sk_live_not_a_real_key"):
        assert planted in text
        assert planted not in redacted


def test_repetitive_text_is_redacted_whole() -> None:
    text = f"password={OPENAI_KEY} " * 2000 + "?token=a&token=b" * 2000 + "eyJ" * 5000
    redacted = redact_text(text)
    assert OPENAI_KEY not in redacted
    assert "token=a" not in redacted


def test_a_character_whose_lower_case_is_longer_does_not_shift_positions() -> None:
    assert redact_text(f"İİ password: hunter2pass İ {KEY_ID}") == (
        "İİ password: [REDACTED:secret] İ [REDACTED:aws-access-key-id:...2U3I]"
    )


# --- registered secrets --------------------------------------------------------------------------------------


def test_a_registered_secret_is_redacted_wherever_it_appears() -> None:
    value = "canary-no-shape-7Qx9"
    text = f"log: {value}; again{value}"
    assert redact_text(text) == text
    assert redact_data({value: 1}) == {value: 1}
    register_secret(f"  {value}\n")
    assert redact_text(text) == "log: [REDACTED:secret]; again[REDACTED:secret]"
    assert redact_data({"k": [value], value: 1}) == {"k": ["[REDACTED:secret]"], "[REDACTED:secret]": 1}
    clear_secrets()
    assert redact_text(text) == text
    assert redact_data({value: 1}) == {value: 1}


def test_short_registered_values_are_ignored() -> None:
    register_secret("testing")
    register_secret("")
    assert redact_text("testing the emulator") == "testing the emulator"


def test_registration_is_thread_safe() -> None:
    values = [f"registered-{i:04d}-value" for i in range(200)]

    def register(chunk: list[str]) -> None:
        for value in chunk:
            register_secret(value)
            redact_text(value)

    threads = [threading.Thread(target=register, args=(values[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert redact_text(" ".join(values)) == " ".join(["[REDACTED:secret]"] * len(values))


def test_env_secrets_are_registered_by_name() -> None:
    env = {
        "MY_SERVICE_TOKEN": "t0k3n-no-shape-at-all",
        "DB_PASSWORD": "postgres",  # only lower-case letters: too common to match everywhere
        "AWS_SECRET_ACCESS_KEY": "testing",  # too short
        "HOME": "/home/someone-long-enough",
    }
    assert register_env_secrets(env) == 1
    assert redact_text("t0k3n-no-shape-at-all postgres /home/someone-long-enough") == (
        "[REDACTED:secret] postgres /home/someone-long-enough"
    )


# --- structured data -----------------------------------------------------------------------------------------


class Settings(BaseModel):
    endpoint: str
    api_key: SecretStr
    options: dict[str, object]


@dataclass
class Attempt:
    code: str
    passed: bool


def test_values_of_secret_keys_are_replaced_whatever_they_are() -> None:
    data = {
        "api_key": OPENAI_KEY,
        "password": 12345678,
        "Credentials": {"AccessKeyId": KEY_ID, "SecretAccessKey": AWS_SECRET},
        "token": None,
        "AllowUsersToChangePassword": True,
        "NextToken": "page-2-cursor",
        "access_key_id": KEY_ID,
        "secrets": ["prod/db", "prod/api"],
    }
    assert redact_data(data) == {
        "api_key": REDACTED,
        "password": REDACTED,
        "Credentials": REDACTED,
        "token": None,
        "AllowUsersToChangePassword": True,
        "NextToken": "page-2-cursor",
        "access_key_id": "[REDACTED:aws-access-key-id:...2U3I]",
        "secrets": ["prod/db", "prod/api"],
    }


def test_containers_models_and_dataclasses() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    ident = UUID(int=7)
    settings = Settings(endpoint=f"https://u:pw123456@h.test?token={OPENAI_KEY}", api_key=SecretStr("x"), options={})
    data = {
        "list": [f"key {KEY_ID}", 3, 2.5, when, ident, b"bytes"],
        "tuple": (OPENAI_KEY,),
        "set": {OPENAI_KEY},
        "model": settings,
        "attempt": Attempt(code=f"client_secret = '{AWS_SECRET}'", passed=False),
        "secret_str": SecretStr("hidden-value"),
    }
    assert redact_data(data) == {
        "list": ["key [REDACTED:aws-access-key-id:...2U3I]", 3, 2.5, when, ident, b"bytes"],
        "tuple": ("[REDACTED:api-key]",),
        "set": {"[REDACTED:api-key]"},
        "model": {
            "endpoint": "https://u:[REDACTED:url-password]@h.test?token=[REDACTED:url-param]",
            "api_key": REDACTED,
            "options": {},
        },
        "attempt": {"code": "client_secret = '[REDACTED:secret]'", "passed": False},
        "secret_str": REDACTED,
    }


def test_the_input_is_not_modified() -> None:
    data = {"api_key": OPENAI_KEY, "nested": [{"text": f"key {KEY_ID}"}]}
    redact_data(data)
    assert data == {"api_key": OPENAI_KEY, "nested": [{"text": f"key {KEY_ID}"}]}


def test_a_cycle_is_cut() -> None:
    data: dict[str, object] = {"name": "loop"}
    data["self"] = data
    assert redact_data(data) == {"name": "loop", "self": REDACTED}

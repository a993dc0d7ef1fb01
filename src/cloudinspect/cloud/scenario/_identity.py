"""Scenario sections for KMS and IAM."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from cloudinspect.cloud.scenario._base import Generated, PolicyDocument, Strict, Tags
from cloudinspect.cloud.series import RelTime, parse_duration


class KmsKey(Generated):
    """A customer-managed KMS key, referred to elsewhere by its alias name (without 'alias/')."""

    name: str = Field(description="Alias name without the 'alias/' prefix, e.g. 'prod-data'.")
    description: str = ""
    rotation: bool = False
    state: Literal["Enabled", "Disabled", "PendingDeletion"] = "Enabled"
    pending_window_days: int = Field(7, ge=7, le=30)
    usage: Literal["ENCRYPT_DECRYPT", "SIGN_VERIFY"] = "ENCRYPT_DECRYPT"
    tags: Tags = Field(default_factory=dict)


class KmsSection(Strict):
    keys: list[KmsKey] = Field(default_factory=list)


class AccessKeyHistory(Strict):
    """When an access key was created and last used (moto would stamp it "now" and never record its use)."""

    created: RelTime | None = Field(None, description="Creation time relative to seeding, e.g. '-400d'.")
    last_used: RelTime | None = Field(None, description="Last use relative to seeding; absent: never used.")
    service: str = Field("s3", description="Service of the last use (what GetAccessKeyLastUsed reports).")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.created and self.last_used and parse_duration(self.last_used) > parse_duration(self.created):
            raise ValueError("last_used is before created")
        return self


class IamUser(Generated):
    name: str
    path: str = "/"
    tags: Tags = Field(default_factory=dict)
    groups: list[str] = Field(default_factory=list)
    console: bool = Field(False, description="Has a login profile (console password).")
    password_reset_required: bool = False
    mfa: bool = Field(False, description="Has an enabled virtual MFA device.")
    access_keys: int = Field(0, ge=0, le=2)
    inactive_keys: int = Field(0, ge=0, le=2, description="How many of the access keys are deactivated.")
    key_history: list[AccessKeyHistory] = Field(
        default_factory=list, description="Creation and last use of the first keys, in order (the rest: new, unused)."
    )
    policies: list[str] = Field(default_factory=list, description="Managed policy names (local) or ARNs.")
    inline_policies: dict[str, PolicyDocument] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys(self) -> Self:
        if self.inactive_keys > self.access_keys:
            raise ValueError("inactive_keys cannot exceed access_keys")
        if len(self.key_history) > self.access_keys:
            raise ValueError(f"key_history describes {len(self.key_history)} keys but the user has {self.access_keys}")
        return self


class IamGroup(Generated):
    name: str
    path: str = "/"
    policies: list[str] = Field(default_factory=list)
    inline_policies: dict[str, PolicyDocument] = Field(default_factory=dict)


class IamRole(Generated):
    name: str
    path: str = "/"
    description: str = ""
    trust: list[str] = Field(
        min_length=1,
        description="Who may assume the role: service principals ('lambda.amazonaws.com'), account ids, or ARNs.",
    )
    max_session_hours: int = Field(1, ge=1, le=12)
    tags: Tags = Field(default_factory=dict)
    policies: list[str] = Field(default_factory=list)
    inline_policies: dict[str, PolicyDocument] = Field(default_factory=dict)


class IamPolicy(Generated):
    name: str
    path: str = "/"
    description: str = ""
    document: PolicyDocument
    tags: Tags = Field(default_factory=dict)


class PasswordPolicy(Strict):
    minimum_length: int = Field(8, ge=6, le=128)
    require_symbols: bool = False
    require_numbers: bool = False
    require_uppercase: bool = False
    require_lowercase: bool = False
    allow_users_to_change: bool = True
    max_age_days: int | None = Field(None, ge=1, le=1095)
    reuse_prevention: int | None = Field(None, ge=1, le=24)
    hard_expiry: bool = False


class IamSection(Strict):
    password_policy: PasswordPolicy | None = None
    policies: list[IamPolicy] = Field(default_factory=list)
    groups: list[IamGroup] = Field(default_factory=list)
    roles: list[IamRole] = Field(default_factory=list)
    users: list[IamUser] = Field(default_factory=list)

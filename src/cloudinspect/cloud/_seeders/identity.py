"""KMS keys and IAM (policies, groups, roles, users, password policy)."""

from __future__ import annotations

from cloudinspect.cloud._seeders._util import dumps, set_state, tag_list
from cloudinspect.cloud.scenario import IamPolicy, IamRole, IamUser, KmsKey, expand_all
from cloudinspect.cloud.seed import SeedContext, seeder
from cloudinspect.cloud.series import parse_duration


@seeder("kms")
def seed_kms(ctx: SeedContext) -> None:
    """Customer-managed keys with aliases, rotation, tags; some disabled or pending deletion."""
    kms = ctx.client("kms")

    def create(key: KmsKey) -> None:
        meta = kms.create_key(
            Description=key.description or f"{key.name} key",
            KeyUsage=key.usage,
            KeySpec="SYMMETRIC_DEFAULT" if key.usage == "ENCRYPT_DECRYPT" else "RSA_2048",
            Tags=tag_list(key.tags, key="TagKey", value="TagValue"),
        )["KeyMetadata"]
        key_id = meta["KeyId"]
        kms.create_alias(AliasName=f"alias/{key.name}", TargetKeyId=key_id)
        if key.rotation:
            kms.enable_key_rotation(KeyId=key_id)
        if key.state == "Disabled":
            kms.disable_key(KeyId=key_id)
        elif key.state == "PendingDeletion":
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=key.pending_window_days)
        ctx.put_id("kms_key", key.name, key_id)
        ctx.put_id("kms_key_arn", key.name, meta["Arn"])

    ctx.map(create, expand_all(ctx.scenario.kms.keys))


def _policy_arn(ctx: SeedContext, name: str) -> str:
    return name if name.startswith("arn:") else ctx.arn("iam", f"policy/{name}", region=False)


def _trust(principals: list[str]) -> str:
    services = [p for p in principals if p.endswith(".amazonaws.com")]
    accounts = [p if p.startswith("arn:") else f"arn:aws:iam::{p}:root" for p in principals if p not in services]
    principal: dict[str, list[str]] = {}
    if services:
        principal["Service"] = services
    if accounts:
        principal["AWS"] = accounts
    return dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


@seeder("iam")
def seed_iam(ctx: SeedContext) -> None:
    """Managed policies, groups, roles (trust policies), users (console, MFA, keys), password policy."""
    iam = ctx.client("iam")
    section = ctx.scenario.iam

    def create_policy(policy: IamPolicy) -> None:
        iam.create_policy(
            PolicyName=policy.name,
            Path=policy.path,
            Description=policy.description,
            PolicyDocument=dumps(policy.document),
            Tags=tag_list(policy.tags),
        )

    ctx.map(create_policy, expand_all(section.policies))

    for group in expand_all(section.groups):
        iam.create_group(GroupName=group.name, Path=group.path)
        for name in group.policies:
            iam.attach_group_policy(GroupName=group.name, PolicyArn=_policy_arn(ctx, name))
        for policy_name, document in group.inline_policies.items():
            iam.put_group_policy(GroupName=group.name, PolicyName=policy_name, PolicyDocument=dumps(document))

    def create_role(role: IamRole) -> None:
        made = iam.create_role(
            RoleName=role.name,
            Path=role.path,
            Description=role.description,
            AssumeRolePolicyDocument=_trust(role.trust),
            MaxSessionDuration=role.max_session_hours * 3600,
            Tags=tag_list(role.tags),
        )["Role"]
        ctx.put_id("role_arn", role.name, made["Arn"])
        for name in role.policies:
            iam.attach_role_policy(RoleName=role.name, PolicyArn=_policy_arn(ctx, name))
        for policy_name, document in role.inline_policies.items():
            iam.put_role_policy(RoleName=role.name, PolicyName=policy_name, PolicyDocument=dumps(document))

    ctx.map(create_role, expand_all(section.roles))

    def create_user(user: IamUser) -> None:
        iam.create_user(UserName=user.name, Path=user.path, Tags=tag_list(user.tags))
        for group_name in user.groups:
            iam.add_user_to_group(GroupName=group_name, UserName=user.name)
        if user.console:
            iam.create_login_profile(
                UserName=user.name,
                Password="Scenario-Passw0rd!",  # noqa: S106 - a dummy password in the emulator
                PasswordResetRequired=user.password_reset_required,
            )
        if user.mfa:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)["VirtualMFADevice"]["SerialNumber"]
            iam.enable_mfa_device(
                UserName=user.name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
            )
        for k in range(user.access_keys):
            key_id = iam.create_access_key(UserName=user.name)["AccessKey"]["AccessKeyId"]
            if k < user.inactive_keys:
                iam.update_access_key(UserName=user.name, AccessKeyId=key_id, Status="Inactive")
            if k < len(user.key_history):
                history = user.key_history[k]
                when = {
                    field: (ctx.anchor - parse_duration(value)).isoformat() if value else None
                    for field, value in (("created", history.created), ("last_used", history.last_used))
                }
                body = {"user_name": user.name, "access_key_id": key_id, "service": history.service, **when}
                set_state(ctx, "access_key", body)
        for name in user.policies:
            iam.attach_user_policy(UserName=user.name, PolicyArn=_policy_arn(ctx, name))
        for policy_name, document in user.inline_policies.items():
            iam.put_user_policy(UserName=user.name, PolicyName=policy_name, PolicyDocument=dumps(document))

    ctx.map(create_user, expand_all(section.users))

    pp = section.password_policy
    if pp is not None:
        args: dict[str, object] = {
            "MinimumPasswordLength": pp.minimum_length,
            "RequireSymbols": pp.require_symbols,
            "RequireNumbers": pp.require_numbers,
            "RequireUppercaseCharacters": pp.require_uppercase,
            "RequireLowercaseCharacters": pp.require_lowercase,
            "AllowUsersToChangePassword": pp.allow_users_to_change,
            "HardExpiry": pp.hard_expiry,
        }
        if pp.max_age_days is not None:
            args["MaxPasswordAge"] = pp.max_age_days
        if pp.reuse_prevention is not None:
            args["PasswordReusePrevention"] = pp.reuse_prevention
        iam.update_account_password_policy(**args)

"""EC2 (VPCs, subnets, security groups, instances, volumes, snapshots, Elastic IPs) and Auto Scaling."""

from __future__ import annotations

from typing import Any

from cloudinspect.cloud._seeders._util import metadata_options, stopped_targets, tag_list
from cloudinspect.cloud.scenario import (
    AutoScalingGroup,
    ElasticIp,
    Instance,
    SecurityGroup,
    Snapshot,
    Subnet,
    Volume,
    Vpc,
    expand_all,
)
from cloudinspect.cloud.seed import SeedContext, seeder


def _az(ctx: SeedContext, az: str) -> str:
    return az if len(az) > 2 else f"{ctx.region}{az}"


def _tags(resource_type: str, tags: dict[str, str], name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": tag_list(tags, name)}]


def _seed_network(ctx: SeedContext) -> None:
    ec2 = ctx.client("ec2")
    vpcs = expand_all(ctx.scenario.ec2.vpcs)

    def create_vpc(vpc: Vpc) -> None:
        vpc_id = ec2.create_vpc(CidrBlock=vpc.cidr, TagSpecifications=_tags("vpc", vpc.tags, vpc.name))["Vpc"]["VpcId"]
        ctx.put_id("vpc", vpc.name, vpc_id)
        if vpc.flow_logs:
            ec2.create_flow_logs(
                ResourceIds=[vpc_id],
                ResourceType="VPC",
                TrafficType="ALL",
                LogDestinationType="s3",
                LogDestination=f"arn:aws:s3:::{vpc.name}-flow-logs",
            )

    ctx.map(create_vpc, vpcs)

    def create_subnet(pair: tuple[Vpc, Subnet]) -> None:
        vpc, subnet = pair
        subnet_id = ec2.create_subnet(
            VpcId=ctx.id("vpc", vpc.name),
            CidrBlock=subnet.cidr,
            AvailabilityZone=_az(ctx, subnet.az),
            TagSpecifications=_tags("subnet", subnet.tags, subnet.name),
        )["Subnet"]["SubnetId"]
        if subnet.public:
            ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        ctx.put_id("subnet", subnet.name, subnet_id)

    ctx.map(create_subnet, [(v, s) for v in vpcs for s in expand_all(v.subnets)])

    groups = expand_all(ctx.scenario.ec2.security_groups)

    def create_group(sg: SecurityGroup) -> None:
        group_id = ec2.create_security_group(
            GroupName=sg.name,
            Description=sg.description,
            VpcId=ctx.id("vpc", sg.vpc),
            TagSpecifications=_tags("security-group", sg.tags, sg.name),
        )["GroupId"]
        ctx.put_id("security_group", sg.name, group_id)

    ctx.map(create_group, groups)

    def add_rules(sg: SecurityGroup) -> None:
        permissions = []
        for rule in sg.ingress:
            low, high = rule.port_range()
            perm: dict[str, Any] = {"IpProtocol": rule.protocol}
            if rule.protocol != "-1":
                perm |= {"FromPort": low, "ToPort": high}
            if rule.cidr is not None:
                perm["IpRanges"] = [{"CidrIp": rule.cidr, "Description": rule.description}]
            elif rule.source_group is not None:
                pair = {"GroupId": ctx.id("security_group", rule.source_group), "Description": rule.description}
                perm["UserIdGroupPairs"] = [pair]
            permissions.append(perm)
        if permissions:
            ec2.authorize_security_group_ingress(GroupId=ctx.id("security_group", sg.name), IpPermissions=permissions)

    ctx.map(add_rules, groups)


def _volume_args(ctx: SeedContext, volume: Volume, az: str) -> dict[str, Any]:
    args: dict[str, Any] = {
        "AvailabilityZone": az,
        "Size": volume.size,
        "VolumeType": volume.type,
        "Encrypted": volume.encrypted,
        "TagSpecifications": _tags("volume", volume.tags, volume.name),
    }
    if volume.kms_key:
        args["KmsKeyId"] = ctx.kms_arn(volume.kms_key)
    if volume.iops or volume.type in ("io1", "io2"):
        args["Iops"] = volume.iops or 3000
    return args


def _seed_instances(ctx: SeedContext) -> None:
    ec2 = ctx.client("ec2")
    section = ctx.scenario.ec2
    instances = expand_all(section.instances)
    stopped_later = stopped_targets(ctx.scenario)
    for key_name in sorted({i.key_name for i in instances if i.key_name}):
        ec2.create_key_pair(KeyName=key_name)
    for role in sorted({i.iam_role for i in instances if i.iam_role}):
        iam = ctx.client("iam")
        iam.create_instance_profile(InstanceProfileName=role)
        iam.add_role_to_instance_profile(InstanceProfileName=role, RoleName=role)

    needs_default_key = any(i.root_encrypted for i in instances) or any(
        v.encrypted and not v.kms_key
        for v in [*expand_all(section.volumes), *(v for i in instances for v in i.volumes)]
    )
    if needs_default_key:
        # moto creates the account's default EBS key (alias/aws/ebs) on the first encrypted volume without a key,
        # without a lock: concurrent launches would create several. Create it once, up front.
        warm = ec2.create_volume(AvailabilityZone=_az(ctx, "a"), Size=1, Encrypted=True)["VolumeId"]
        ec2.delete_volume(VolumeId=warm)

    def launch(inst: Instance) -> None:
        args: dict[str, Any] = {
            "ImageId": inst.image,
            "InstanceType": inst.type,
            "MinCount": 1,
            "MaxCount": 1,
            "SubnetId": ctx.id("subnet", inst.subnet),
            "SecurityGroupIds": [ctx.id("security_group", g) for g in inst.security_groups],
            "Monitoring": {"Enabled": inst.monitoring},
            "MetadataOptions": metadata_options(inst.imds),
            "BlockDeviceMappings": [
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {
                        "VolumeSize": inst.root_size,
                        "VolumeType": "gp3",
                        "Encrypted": inst.root_encrypted,
                        "DeleteOnTermination": True,
                    },
                }
            ],
            "TagSpecifications": [
                *_tags("instance", inst.tags, inst.name),
                *_tags("volume", inst.tags, f"{inst.name}-root"),
            ],
        }
        if inst.key_name:
            args["KeyName"] = inst.key_name
        if inst.iam_role:
            args["IamInstanceProfile"] = {"Name": inst.iam_role}
        made = ec2.run_instances(**args)["Instances"][0]
        instance_id = made["InstanceId"]
        ctx.put_id("instance", inst.name, instance_id)
        for volume in inst.volumes:
            volume_id = ec2.create_volume(**_volume_args(ctx, volume, made["Placement"]["AvailabilityZone"]))[
                "VolumeId"
            ]
            ec2.attach_volume(VolumeId=volume_id, InstanceId=instance_id, Device=volume.device)
            ctx.put_id("volume", volume.name, volume_id)
        if inst.elastic_ip:
            allocation = ec2.allocate_address(
                Domain="vpc", TagSpecifications=_tags("elastic-ip", inst.tags, f"{inst.name}-eip")
            )
            ec2.associate_address(AllocationId=allocation["AllocationId"], InstanceId=instance_id)
        if inst.state == "stopped" and inst.name not in stopped_later:
            ec2.stop_instances(InstanceIds=[instance_id])
        elif inst.state == "terminated":
            ec2.terminate_instances(InstanceIds=[instance_id])

    ctx.map(launch, instances)

    def create_volume(volume: Volume) -> None:
        volume_id = ec2.create_volume(**_volume_args(ctx, volume, _az(ctx, volume.az)))["VolumeId"]
        ctx.put_id("volume", volume.name, volume_id)

    ctx.map(create_volume, expand_all(section.volumes))

    def create_snapshot(snap: Snapshot) -> None:
        ec2.create_snapshot(
            VolumeId=ctx.id("volume", snap.volume),
            Description=snap.description or f"snapshot of {snap.volume}",
            TagSpecifications=_tags("snapshot", snap.tags, snap.name),
        )

    ctx.map(create_snapshot, expand_all(section.snapshots))

    def create_eip(eip: ElasticIp) -> None:
        allocation = ec2.allocate_address(Domain="vpc", TagSpecifications=_tags("elastic-ip", eip.tags, eip.name))
        if eip.instance:
            ec2.associate_address(AllocationId=allocation["AllocationId"], InstanceId=ctx.id("instance", eip.instance))

    ctx.map(create_eip, expand_all(section.elastic_ips))


@seeder("ec2", after=("kms", "iam"))
def seed_ec2(ctx: SeedContext) -> None:
    """Network first (ids are needed by instances), then instances with volumes and addresses."""
    _seed_network(ctx)
    _seed_instances(ctx)


@seeder("autoscaling", after=("ec2",))
def seed_autoscaling(ctx: SeedContext) -> None:
    """Auto Scaling groups, each with its own launch template (moto launches their instances)."""
    ec2 = ctx.client("ec2")
    autoscaling = ctx.client("autoscaling")

    def create(group: AutoScalingGroup) -> None:
        template = f"{group.name}-lt"
        ec2.create_launch_template(
            LaunchTemplateName=template,
            LaunchTemplateData={
                "ImageId": group.image,
                "InstanceType": group.instance_type,
                "MetadataOptions": metadata_options(group.imds),
            },
        )
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=group.name,
            LaunchTemplate={"LaunchTemplateName": template, "Version": "$Latest"},
            MinSize=group.min_size,
            MaxSize=group.max_size,
            DesiredCapacity=group.desired,
            VPCZoneIdentifier=",".join(ctx.id("subnet", s) for s in group.subnets),
            Tags=[
                {"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in {"Name": group.name, **group.tags}.items()
            ],
        )
        # moto launches the group's instances without the template's metadata options: apply them as AWS would.
        described = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[group.name])
        for instance in described["AutoScalingGroups"][0]["Instances"]:
            ec2.modify_instance_metadata_options(InstanceId=instance["InstanceId"], **metadata_options(group.imds))

    ctx.map(create, expand_all(ctx.scenario.autoscaling.groups))

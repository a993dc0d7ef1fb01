"""Scenario sections for EC2 and Auto Scaling."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags

Imds = Literal["required", "optional", "disabled"]
"""Instance metadata service: 'required' (IMDSv2 only: session tokens required, what current AMIs such as
Amazon Linux 2023 launch with), 'optional' (IMDSv1 still answers, as on instances launched from older AMIs or
templates), 'disabled' (no metadata endpoint at all)."""


class Subnet(Generated):
    name: str
    cidr: str
    az: str = Field(description="Availability zone suffix ('a') or full name ('us-east-1a').")
    public: bool = Field(False, description="Maps public IPs on launch.")
    tags: Tags = Field(default_factory=dict)


class Vpc(Generated):
    name: str
    cidr: str
    tags: Tags = Field(default_factory=dict)
    subnets: list[Subnet] = Field(default_factory=list)
    flow_logs: bool = False


class IngressRule(Strict):
    protocol: Literal["tcp", "udp", "icmp", "-1"] = "tcp"
    ports: int | str = Field(description="A port (443), a range ('8080-8090') or 'all'.")
    cidr: str | None = None
    source_group: str | None = Field(None, description="Name of a security group allowed in.")
    description: str = ""

    @field_validator("ports")
    @classmethod
    def _ports(cls, value: int | str) -> int | str:
        if isinstance(value, str) and value != "all" and not re.fullmatch(r"\d+-\d+", value):
            raise ValueError("ports must be a number, a range like '8080-8090', or 'all'")
        return value

    @model_validator(mode="after")
    def _source(self) -> Self:
        if (self.cidr is None) == (self.source_group is None):
            raise ValueError("give exactly one of cidr or source_group")
        return self

    def port_range(self) -> tuple[int, int]:
        """(from, to); (-1, -1) for 'all'."""
        if isinstance(self.ports, int):
            return self.ports, self.ports
        if self.ports == "all":
            return -1, -1
        low, high = self.ports.split("-")
        return int(low), int(high)


class SecurityGroup(Generated):
    name: str
    vpc: str
    description: str = "managed by cloudinspect scenario"
    ingress: list[IngressRule] = Field(default_factory=list)
    tags: Tags = Field(default_factory=dict)


class Volume(Generated):
    name: str
    size: int = Field(ge=1, le=16384, description="GiB")
    type: Literal["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"] = "gp3"
    iops: int | None = Field(None, ge=100, description="Provisioned IOPS (io1/io2; default 3000).")
    encrypted: bool = False
    kms_key: str | None = None
    az: str = "a"
    device: str = "/dev/sdf"
    tags: Tags = Field(default_factory=dict)


class Instance(Generated):
    name: str
    type: str = "t3.micro"
    image: str = "ami-0c02fb55956c7d316"
    subnet: str
    security_groups: list[str] = Field(default_factory=list)
    state: Literal["running", "stopped", "terminated"] = "running"
    key_name: str | None = None
    root_size: int = Field(8, ge=1, le=16384)
    root_encrypted: bool = False
    volumes: list[Volume] = Field(default_factory=list, description="Extra EBS volumes attached to it.")
    elastic_ip: bool = False
    monitoring: bool = Field(False, description="Detailed monitoring (1-minute metrics).")
    iam_role: str | None = None
    imds: Imds = Field("required", description="Instance metadata service: required (IMDSv2), optional, disabled.")
    tags: Tags = Field(default_factory=dict)


class ElasticIp(Generated):
    name: str
    instance: str | None = Field(None, description="Instance to associate with (unassociated when absent).")
    tags: Tags = Field(default_factory=dict)


class Snapshot(Generated):
    name: str
    volume: str = Field(description="Name of a volume (standalone or attached to an instance).")
    description: str = ""
    tags: Tags = Field(default_factory=dict)


class Ec2Section(Strict):
    vpcs: list[Vpc] = Field(default_factory=list)
    security_groups: list[SecurityGroup] = Field(default_factory=list)
    instances: list[Instance] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list, description="Volumes not attached to any instance.")
    snapshots: list[Snapshot] = Field(default_factory=list)
    elastic_ips: list[ElasticIp] = Field(default_factory=list)


class AutoScalingGroup(Generated):
    name: str
    instance_type: str = "t3.micro"
    image: str = "ami-0c02fb55956c7d316"
    subnets: list[str] = Field(min_length=1)
    min_size: int = Field(0, ge=0)
    max_size: int = Field(1, ge=0)
    desired: int = Field(0, ge=0)
    imds: Imds = Field("required", description="Metadata options of the launch template, hence of its instances.")
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if not self.min_size <= self.desired <= self.max_size:
            raise ValueError("need min_size <= desired <= max_size")
        return self


class AutoScalingSection(Strict):
    groups: list[AutoScalingGroup] = Field(default_factory=list)

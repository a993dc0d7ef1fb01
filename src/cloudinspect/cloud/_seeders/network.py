"""ELBv2 (target groups with targets, ALBs/NLBs, HTTP/HTTPS listeners, ACM certificates) and Route 53."""

from __future__ import annotations

from typing import Any

from cloudinspect.cloud._seeders._util import set_state, stopped_targets, tag_list
from cloudinspect.cloud.scenario import HostedZone, LoadBalancer, TargetGroup, expand_all
from cloudinspect.cloud.seed import SeedContext, seeder


@seeder("elbv2", after=("ec2",))
def seed_elbv2(ctx: SeedContext) -> None:
    """Target groups (instances matched by name, some failing health checks), load balancers, listeners with
    certificates.

    Stopped instances are registered while still running and stopped afterwards, so that they report 'unused'.
    """
    elb = ctx.client("elbv2")
    instances = ctx.ids("instance")
    states = {i.name: i.state for i in expand_all(ctx.scenario.ec2.instances)}
    registrable = {name for name, state in states.items() if state != "terminated"}

    def create_group(tg: TargetGroup) -> None:
        args: dict[str, Any] = {
            "Name": tg.name,
            "Protocol": tg.protocol,
            "Port": tg.port,
            "VpcId": ctx.id("vpc", tg.vpc),
            "TargetType": tg.target_type,
        }
        if tg.protocol.startswith("HTTP"):
            args["HealthCheckPath"] = tg.health_check_path
        if tg.tags:
            args["Tags"] = tag_list(tg.tags)
        arn = elb.create_target_group(**args)["TargetGroups"][0]["TargetGroupArn"]
        ctx.put_id("target_group_arn", tg.name, arn)
        names = sorted(n for n in instances if n in registrable and tg.selects(n))
        if names:
            elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": instances[n], "Port": tg.port} for n in names])
        for name in names:
            health = tg.health(name)
            if health is not None:
                body = {
                    "target_group_arn": arn,
                    "target_id": instances[name],
                    "state": health.state,
                    "reason": health.reason,
                    "description": health.description,
                }
                set_state(ctx, "target_health", body)

    ctx.map(create_group, expand_all(ctx.scenario.elbv2.target_groups))
    to_stop = sorted(stopped_targets(ctx.scenario))
    if to_stop:
        ctx.client("ec2").stop_instances(InstanceIds=[instances[n] for n in to_stop])

    load_balancers = expand_all(ctx.scenario.elbv2.load_balancers)
    acm = ctx.client("acm")
    domains = sorted(
        {lis.certificate_domain for lb in load_balancers for lis in lb.listeners if lis.certificate_domain}
    )
    for domain in domains:
        ctx.put_id("certificate_arn", domain, acm.request_certificate(DomainName=domain)["CertificateArn"])

    def create_lb(lb: LoadBalancer) -> None:
        args: dict[str, Any] = {
            "Name": lb.name,
            "Subnets": [ctx.id("subnet", s) for s in lb.subnets],
            "Scheme": lb.scheme,
            "Type": lb.type,
        }
        if lb.security_groups:
            args["SecurityGroups"] = [ctx.id("security_group", g) for g in lb.security_groups]
        if lb.tags:
            args["Tags"] = tag_list(lb.tags)
        arn = elb.create_load_balancer(**args)["LoadBalancers"][0]["LoadBalancerArn"]
        ctx.put_id("load_balancer_arn", lb.name, arn)
        ctx.put_id("load_balancer_dimension", lb.name, arn.split(":loadbalancer/", 1)[1])
        if lb.deletion_protection:
            elb.modify_load_balancer_attributes(
                LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}]
            )
        for listener in lb.listeners:
            if listener.target_group is not None:
                action: dict[str, Any] = {
                    "Type": "forward",
                    "TargetGroupArn": ctx.id("target_group_arn", listener.target_group),
                }
            else:
                redirect = {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}
                action = {"Type": "redirect", "RedirectConfig": redirect}
            largs: dict[str, Any] = {
                "LoadBalancerArn": arn,
                "Protocol": listener.protocol,
                "Port": listener.port,
                "DefaultActions": [action],
            }
            if listener.certificate_domain:
                largs["Certificates"] = [{"CertificateArn": ctx.id("certificate_arn", listener.certificate_domain)}]
                largs["SslPolicy"] = listener.ssl_policy
            elb.create_listener(**largs)

    ctx.map(create_lb, load_balancers)


@seeder("route53", after=("ec2",))
def seed_route53(ctx: SeedContext) -> None:
    """Public and private hosted zones with records."""
    r53 = ctx.client("route53")

    def create(zone: HostedZone) -> None:
        args: dict[str, Any] = {
            "Name": zone.name,
            "CallerReference": f"cloudinspect-{ctx.scenario.name}-{zone.name}",
            "HostedZoneConfig": {"Comment": zone.comment, "PrivateZone": zone.private_vpc is not None},
        }
        if zone.private_vpc:
            args["VPC"] = {"VPCRegion": ctx.region, "VPCId": ctx.id("vpc", zone.private_vpc)}
        zone_id = r53.create_hosted_zone(**args)["HostedZone"]["Id"]
        changes = [
            {
                "Action": "CREATE",
                "ResourceRecordSet": {
                    "Name": record.name,
                    "Type": record.type,
                    "TTL": record.ttl,
                    "ResourceRecords": [{"Value": v} for v in record.values],
                },
            }
            for record in zone.records
        ]
        if changes:
            r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})

    ctx.map(create, expand_all(ctx.scenario.route53.zones))

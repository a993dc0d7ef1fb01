"""The api analysis: boto3 calls resolved against botocore's models, and what it finds wrong with them."""

from __future__ import annotations

import ast
import textwrap

import pytest

from cloudinspect.review import awsmodels
from cloudinspect.review.api import ApiAnalysis, analyse_api, extract_api_calls
from cloudinspect.review.types import ApiCall, Finding, Severity


def analyse(code: str) -> ApiAnalysis:
    return analyse_api(ast.parse(textwrap.dedent(code)))


def rules(code: str) -> list[tuple[str, Severity]]:
    return [(f.rule, f.severity) for f in analyse(code).findings]


def only(code: str, rule: str) -> Finding:
    found = [f for f in analyse(code).findings if f.rule == rule]
    assert len(found) == 1, analyse(code).findings
    return found[0]


def ops(code: str) -> set[tuple[str, str, str]]:
    return {(c.service, c.operation, c.kind) for c in analyse(code).calls if c.valid}


# ----------------------------------------------------------------------------------------------- services


def test_unknown_service_suggests_the_real_name() -> None:
    finding = only('import boto3\nlogs = boto3.client("cloudwatchlogs")\n', "api.unknown-service")
    assert finding.severity is Severity.error
    assert (finding.line, finding.col) == (2, 21)
    assert finding.suggestion is not None
    assert "'logs'" in finding.suggestion


def test_service_without_resource_interface() -> None:
    finding = only('import boto3\nfns = boto3.resource("lambda")\n', "api.unknown-service")
    assert "no boto3 resource interface" in finding.message
    assert finding.suggestion == "use boto3.client('lambda')"


def test_calls_on_an_unknown_service_are_recorded_invalid() -> None:
    calls = analyse('import boto3\nc = boto3.client("cloudwatchlogs")\nc.describe_log_groups()\n').calls
    assert [(c.service, c.operation, c.valid) for c in calls] == [("cloudwatchlogs", "describe_log_groups", False)]


def test_unknown_client_keyword() -> None:
    finding = only('import boto3\nc = boto3.client("s3", region="eu-west-1")\n', "api.unknown-parameter")
    assert finding.suggestion == "did you mean 'region_name'?"


# --------------------------------------------------------------------------------------------- operations


def test_hallucinated_operation_with_did_you_mean() -> None:
    finding = only("import boto3\nec2 = boto3.client('ec2')\nec2.list_instances()\n", "api.unknown-operation")
    assert (finding.line, finding.col) == (3, 5)
    assert finding.suggestion is not None
    assert finding.suggestion.startswith("did you mean 'describe_instances'")


def test_operation_of_another_service_is_pointed_at() -> None:
    finding = only("import boto3\nlogs = boto3.client('logs')\nlogs.get_metric_statistics()\n", "api.unknown-operation")
    assert finding.suggestion is not None
    assert "'cloudwatch'" in finding.suggestion


def test_valid_call_is_recorded_with_pascal_case_operation_and_params() -> None:
    calls = analyse(
        """
        import boto3
        logs = boto3.client("logs")
        logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/", limit=50)
        """
    ).calls
    assert calls == [
        ApiCall(
            service="logs",
            operation="DescribeLogGroups",
            method="describe_log_groups",
            kind="client",
            line=4,
            col=6,
            valid=True,
            params=["logGroupNamePrefix", "limit"],
            values={"logGroupNamePrefix": "/aws/lambda/", "limit": 50},
        )
    ]


def test_literal_values_are_recorded_when_every_context_agrees() -> None:
    code = """
    import boto3
    ssm = boto3.client("ssm")
    def get(name, decrypt):
        return ssm.get_parameter(Name=name, WithDecryption=decrypt)
    get("/a", True)
    get("/b", True)
    ssm.get_parameters(Names=["/a", "/b"], WithDecryption=False)
    """
    calls = analyse(code).calls
    # Name differs between the two contexts: only its name is known, not one value.
    assert calls[0].params == ["Name", "WithDecryption"]
    assert calls[0].values == {"WithDecryption": True}
    assert calls[1].values == {"Names": ["/a", "/b"], "WithDecryption": False}


def test_misspelt_parameter() -> None:
    finding = only(
        "import boto3\nboto3.client('logs').describe_log_groups(logGroupPrefix='/aws')\n", "api.unknown-parameter"
    )
    assert finding.suggestion == "did you mean 'logGroupNamePrefix'?"
    assert finding.col == 42


def test_parameter_in_the_wrong_case() -> None:
    finding = only("import boto3\nboto3.client('s3').list_objects_v2(bucket='b')\n", "api.unknown-parameter")
    assert finding.suggestion == "did you mean 'Bucket'?"


def test_missing_required_parameter() -> None:
    finding = only("import boto3\nboto3.client('dynamodb').describe_table()\n", "api.missing-parameter")
    assert "TableName" in finding.message


def test_misspelt_required_parameter_is_one_finding() -> None:
    found = rules("import boto3\nboto3.client('elbv2').describe_target_health(TargetGroupName='x')\n")
    assert found == [("api.unknown-parameter", Severity.error)]


def test_positional_arguments_are_rejected_once() -> None:
    found = analyse("import boto3\nboto3.client('sns').get_topic_attributes('arn:aws:sns:x')\n").findings
    assert [f.rule for f in found] == ["api.positional-argument"]
    assert found[0].suggestion == "pass them by name: TopicArn=..."


def test_auto_filled_required_parameters_are_not_missing() -> None:
    # RunInstances' ClientToken is an idempotency token botocore generates; Glacier's accountId defaults to "-".
    code = """
    import boto3
    boto3.client("ec2").run_instances(ImageId="ami-1", MinCount=1, MaxCount=1)
    boto3.client("glacier").list_vaults()
    """
    assert rules(code) == []


# ------------------------------------------------------------------------------------------------ types


@pytest.mark.parametrize(
    ("call", "fragment", "hint"),
    [
        ("boto3.client('iam').list_users(MaxItems='100')", "MaxItems: expected an int", "pass an int: 100"),
        ("boto3.client('s3').list_objects_v2(Bucket=123)", "Bucket: expected a str", "pass a str: '123'"),
        (
            "boto3.client('s3').list_objects_v2(Bucket='b', FetchOwner='true')",
            "FetchOwner: expected a bool",
            "pass a bool: True",
        ),
        (
            "boto3.client('ec2').describe_instances(InstanceIds='i-1')",
            "InstanceIds: expected a list",
            "wrap it in a list: ['i-1']",
        ),
        (
            "boto3.client('ec2').describe_instances(Filters=[{'Name': 'x', 'Values': 'running'}])",
            "Filters[0].Values: expected a list",
            "wrap it in a list: ['running']",
        ),
        (
            "boto3.client('logs').describe_log_groups(nextToken=None)",
            "nextToken: expected a str",
            "leave the parameter out instead of passing None",
        ),
        (
            "boto3.client('ec2').describe_instances(InstanceIds={'i-1', 'i-2'})",
            "InstanceIds: expected a list",
            "pass a list (botocore rejects sets)",
        ),
        (
            "boto3.client('cloudwatch').list_metrics(Dimensions={'Name': 'X', 'Value': 'y'})",
            "Dimensions: expected a list",
            "wrap it in a list: [{...}]",
        ),
    ],
)
def test_wrong_literal_types(call: str, fragment: str, hint: str) -> None:
    finding = only(f"import boto3\n{call}\n", "api.wrong-type")
    assert fragment in finding.message
    assert finding.suggestion == hint


def test_types_follow_names_bound_to_literals() -> None:
    code = """
    import boto3
    LIMIT = "50"
    filters = [{"Name": "instance-state-name", "Values": "running"}]
    ec2 = boto3.client("ec2")
    ec2.describe_instances(Filters=filters, MaxResults=LIMIT)
    """
    assert sorted(rules(code)) == [("api.wrong-type", Severity.error), ("api.wrong-type", Severity.error)]


def test_unknown_and_missing_members_of_nested_structures() -> None:
    code = """
    import boto3
    cw = boto3.client("cloudwatch")
    when = {"StartTime": 1, "EndTime": 2, "Period": 60, "Statistics": ["Sum"], "Namespace": "N", "MetricName": "M"}
    cw.get_metric_statistics(Dimensions=[{"Name": "FunctionName"}], **when)
    cw.get_metric_statistics(Dimensions=[{"Name": "FunctionName", "Val": "x"}], **when)
    """
    found = analyse(code).findings
    # A misspelt required member is one finding (unknown, with the suggestion), not also "missing".
    assert [f.rule for f in found] == ["api.missing-parameter", "api.unknown-parameter"]
    assert "Dimensions[0]" in found[0].message
    assert "Value" in found[0].message
    assert found[1].suggestion == "did you mean 'Value'?"


def test_timestamps_accept_datetimes_numbers_and_parseable_strings() -> None:
    code = """
    import time
    from datetime import datetime, timedelta, timezone
    import boto3
    cw = boto3.client("cloudwatch")
    now = datetime.now(timezone.utc)
    cw.get_metric_statistics(Namespace="A", MetricName="B", StartTime=now - timedelta(hours=1), EndTime=time.time(),
                             Period=60, Statistics=["Sum"])
    cw.get_metric_statistics(Namespace="A", MetricName="B", StartTime="2024-01-01T00:00:00Z", EndTime=now,
                             Period=60, Statistics=["Sum"])
    cw.get_metric_statistics(Namespace="A", MetricName="B", StartTime="yesterday", EndTime=now,
                             Period=60, Statistics=["Sum"])
    """
    finding = only(code, "api.wrong-type")
    assert finding.line == 11
    assert "'yesterday' is not a timestamp" in finding.message


def test_integer_time_parameter_given_an_isoformat_string() -> None:
    code = """
    from datetime import datetime
    import boto3
    boto3.client("logs").filter_log_events(logGroupName="g", startTime=datetime.utcnow().isoformat())
    """
    assert "startTime: expected an int" in only(code, "api.wrong-type").message


def test_values_out_of_the_model_range_and_enum() -> None:
    code = """
    import boto3
    logs = boto3.client("logs")
    logs.describe_log_groups(limit=0)
    logs.describe_log_groups(limit=500)
    boto3.client("cloudwatch").describe_alarms(StateValue="ALERT")
    """
    found = [(f.line, f.rule, f.severity) for f in analyse(code).findings]
    assert found == [
        (4, "api.invalid-value", Severity.error),
        (5, "api.invalid-value", Severity.warning),
        (6, "api.invalid-value", Severity.warning),
    ]


def test_botocore_customisations_are_accepted() -> None:
    code = """
    import boto3
    boto3.client("ec2").describe_nat_gateways(Filters=[{"Name": "state", "Values": ["available"]}])
    boto3.client("s3").copy_object(Bucket="b", Key="k", CopySource={"Bucket": "a", "Key": "k"})
    """
    assert rules(code) == []


@pytest.mark.parametrize(
    "call",
    [
        's3.copy_object(Bucket="b", Key="k", CopySource="a/k")',
        's3.upload_part_copy(Bucket="b", Key="k", CopySource={"Bucket": "a", "Key": "k"}, PartNumber=1, UploadId="u")',
        'boto3.resource("s3").Object("b", "k").copy_from(CopySource={"Bucket": "a", "Key": "k", "VersionId": "1"})',
        's3.head_object(Bucket="b", Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=b"0" * 32)',
        's3.get_object(Bucket="b", Key="k", SSECustomerAlgorithm="AES256", SSECustomerKey=b"k")',
        's3.copy_object(Bucket="b", Key="k", CopySource="a/k", CopySourceSSECustomerKey=bytearray(b"k"))',
        'boto3.client("ec2").run_instances(ImageId="ami-1", MinCount=1, MaxCount=1, UserData=b"#!/bin/sh")',
        's3.put_object(Bucket="b", Key="k", Body=open("f", "rb"))',
        's3.put_object(Bucket="b", Key="k", Body=io.BytesIO(b"x"))',
        's3.put_object(Bucket="b", Key="k", Body=bytearray(3))',
        'boto3.client("dynamodb").get_item(TableName="t", Key={"pk": {"B": bytearray(b"x")}})',
        's3.head_object(Bucket="b", Key="k", IfModifiedSince=True)',
        'boto3.client("cloudwatch").get_metric_statistics(Namespace="n", MetricName="m", StartTime=datetime.now(), '
        'EndTime=time.time(), Period=True, Statistics=("Average",))',
    ],
)
def test_what_botocore_accepts_at_run_time_is_not_a_wrong_type(call: str) -> None:
    code = f"import io\nimport time\nfrom datetime import datetime\nimport boto3\ns3 = boto3.client('s3')\n{call}\n"
    assert [r for r in rules(code) if r[0].startswith("api.")] == []


@pytest.mark.parametrize(
    ("call", "got"),
    [
        ('ssm.get_parameter(Name=b"/x")', "got bytes"),  # only botocore's own handlers encode bytes
        ('ssm.get_parameter(Name=Decimal("1"))', "got a decimal"),
        ('ssm.get_parameter(Name=open("f"))', "got a file"),
        ('ssm.get_parameter(Name="/x", WithDecryption=bytearray(1))', "got a bytearray"),
        ('s3.list_objects_v2(Bucket="b", ExpectedBucketOwner=b"1")', "got bytes"),
    ],
)
def test_types_botocore_rejects_are_still_wrong(call: str, got: str) -> None:
    code = f"from decimal import Decimal\nimport boto3\nssm = boto3.client('ssm')\ns3 = boto3.client('s3')\n{call}\n"
    found = [f for f in analyse(code).findings if f.rule == "api.wrong-type"]
    assert len(found) == 1, analyse(code).findings
    assert got in found[0].message


def test_unknown_values_are_never_judged() -> None:
    code = """
    import json
    import os
    import boto3
    VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
    def f(limit, ids):
        boto3.client("ec2").describe_instances(InstanceIds=ids, MaxResults=limit)
    f(VARS["limit"], VARS.get("ids"))
    boto3.client("logs").describe_log_groups(limit=int(os.environ["N"]), logGroupNamePrefix=str(os.getpid()))
    """
    assert rules(code) == []


def test_environment_variables_are_strings() -> None:
    code = """
    import os
    import boto3
    boto3.client("logs").describe_log_groups(limit=os.environ.get("LIMIT", 50))
    boto3.client("logs").describe_log_groups(limit=os.environ["LIMIT"])
    """
    # os.environ.get(..., 50) may be an int: only the certain str is an error.
    assert [(f.line, f.rule) for f in analyse(code).findings] == [(5, "api.wrong-type")]


# ------------------------------------------------------------------------------------ paginators, waiters


def test_paginator_for_an_operation_that_cannot_paginate() -> None:
    code = "import boto3\nboto3.client('lambda').get_paginator('describe_functions').paginate()\n"
    finding = only(code, "api.unknown-paginator")
    assert finding.suggestion == "did you mean 'list_functions'?"
    assert finding.col == 38
    assert analyse(code).calls[0].valid is False


def test_existing_operation_without_paginator_says_so() -> None:
    finding = only("import boto3\nboto3.client('sts').get_paginator('get_caller_identity')\n", "api.unknown-paginator")
    assert "cannot be paginated" in finding.message
    assert "can_paginate" in finding.message


def test_paginator_name_in_pascal_case() -> None:
    finding = only("import boto3\nboto3.client('ec2').get_paginator('DescribeInstances')\n", "api.unknown-paginator")
    assert finding.suggestion == "did you mean 'describe_instances'?"


def test_paginate_parameters_are_checked_against_the_operation() -> None:
    code = """
    import boto3
    pages = boto3.client("logs").get_paginator("describe_log_groups")
    for page in pages.paginate(logGroupPrefix="/aws", nextToken="abc", limit=5, PageSize=50,
                               PaginationConfig={"PageSize": 10, "MaxResults": 5}):
        pass
    """
    found = [(f.rule, f.severity, f.message.split(":")[0]) for f in analyse(code).findings]
    assert ("api.unknown-parameter", Severity.error, "logs paginator 'describe_log_groups'") in found
    warnings = [f for f in analyse(code).findings if f.severity is Severity.warning]
    assert {w.message.split(" ")[2] for w in warnings if w.message.startswith("paginate() manages")} == {"nextToken"}
    assert any("sets limit from PaginationConfig" in w.message for w in warnings)
    assert {w.rule for w in warnings if "paginate()" in w.message} == {"api.managed-parameter"}
    assert any("PaginationConfig has no key 'MaxResults'" in w.message for w in warnings)
    page_size = [f for f in analyse(code).findings if "belongs in PaginationConfig" in f.message]
    assert page_size
    assert page_size[0].severity is Severity.error


def test_page_size_for_a_paginator_without_limit_key() -> None:
    service, name = next(
        (svc, n)
        for svc in ("s3", "ec2", "iam", "logs")
        for n, p in awsmodels.paginators(svc).items()
        if not p.limit_key
    )
    pages = f"boto3.client({service!r}).get_paginator({name!r})"
    code = f"import boto3\n{pages}.paginate(PaginationConfig={{'PageSize': 5}})\n"
    finding = [f for f in analyse(code).findings if "PageSize" in f.message]
    assert finding
    assert finding[0].severity is Severity.error
    assert "PaginationError" in finding[0].message


def test_paginate_records_the_paginated_operation() -> None:
    code = """
    import boto3
    s3 = boto3.client("s3")
    paginator = s3.get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket="b", PaginationConfig={"MaxItems": 100, "PageSize": 10})
    keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
    """
    analysis = analyse(code)
    assert analysis.findings == []
    assert [(c.operation, c.kind, c.method, c.line) for c in analysis.calls] == [
        ("ListObjectsV2", "paginator", "paginate", 5)
    ]


def test_unknown_waiter_and_wait_parameters() -> None:
    code = """
    import boto3
    ec2 = boto3.client("ec2")
    ec2.get_waiter("instances_running").wait(InstanceIds=["i-1"])
    waiter = ec2.get_waiter("instance_running")
    waiter.wait(InstanceId="i-1", WaiterConfig={"Delay": 5, "MaxAttempts": 3, "Timeout": 60})
    """
    found = analyse(code).findings
    assert [(f.line, f.rule, f.severity) for f in found] == [
        (4, "api.unknown-waiter", Severity.error),
        (6, "api.unknown-parameter", Severity.error),
        (6, "api.unknown-parameter", Severity.warning),
    ]
    assert found[0].suggestion is not None
    assert "'instance_running'" in found[0].suggestion
    assert found[1].suggestion == "did you mean 'InstanceIds'?"
    calls = [(c.operation, c.kind, c.valid) for c in analyse(code).calls]
    assert ("DescribeInstances", "waiter", True) in calls


def test_service_without_waiters() -> None:
    finding = only("import boto3\nboto3.client('logs').get_waiter('log_group_exists')\n", "api.unknown-waiter")
    assert "no waiters at all" in finding.message


# ---------------------------------------------------------------------------------------- following values


def test_clients_through_sessions() -> None:
    code = """
    import boto3
    import boto3.session
    import botocore.session
    from boto3 import Session
    a = boto3.Session(profile_name="x").client("ec2")
    b = boto3.session.Session().client("logs")
    c = Session().client(service_name="s3")
    d = botocore.session.get_session().create_client("sts")
    a.describe_vpcs(); b.describe_log_groups(); c.list_buckets(); d.get_caller_identity()
    """
    assert ops(code) == {
        ("ec2", "DescribeVpcs", "client"),
        ("logs", "DescribeLogGroups", "client"),
        ("s3", "ListBuckets", "client"),
        ("sts", "GetCallerIdentity", "client"),
    }


def test_clients_through_attributes_tuples_and_containers() -> None:
    code = """
    import boto3
    class Inspector:
        def __init__(self):
            self.ec2, self.s3 = boto3.client("ec2"), boto3.client("s3")
            self.by_region = {}
            for region in ("us-east-1", "eu-west-1"):
                self.by_region[region] = boto3.client("lambda", region_name=region)
        def run(self):
            self.ec2.describe_instances()
            self.s3.list_buckets()
            for region, client in self.by_region.items():
                client.list_functions()
            self.ec2.list_buckets()
    Inspector().run()
    """
    analysis = analyse(code)
    assert ops(code) == {
        ("ec2", "DescribeInstances", "client"),
        ("s3", "ListBuckets", "client"),
        ("lambda", "ListFunctions", "client"),
    }
    assert [(f.line, f.rule) for f in analysis.findings] == [(14, "api.unknown-operation")]


def test_function_parameters_are_analysed_per_call_context() -> None:
    code = """
    import boto3
    def everything(client, operation, key, **kwargs):
        return [x for page in client.get_paginator(operation).paginate(**kwargs) for x in page[key]]
    everything(boto3.client("ec2"), "describe_instances", "Reservations")
    everything(boto3.client("s3"), "list_objects_v2", "Contents", Bucket="b")
    everything(boto3.client("iam"), "list_users", "Users", Bucket="b")
    """
    analysis = analyse(code)
    assert {(c.service, c.operation) for c in analysis.calls} == {
        ("ec2", "DescribeInstances"),
        ("s3", "ListObjectsV2"),
        ("iam", "ListUsers"),
    }
    # The Bucket meant for S3 is wrong for IAM only, and reported where it was written.
    assert [(f.line, f.rule) for f in analysis.findings] == [(7, "api.unknown-parameter")]


def test_operations_built_from_f_strings_and_getattr() -> None:
    code = """
    import boto3
    iam = boto3.client("iam")
    def policies(kind, name):
        arg = {f"{kind.capitalize()}Name": name}
        attached = iam.get_paginator(f"list_attached_{kind}_policies").paginate(**arg)
        inline = getattr(iam, f"get_{kind}_policy")(**arg, PolicyName="p")
        return attached, inline
    for kind in ("user", "role"):
        policies(kind, "x")
    """
    assert ops(code) == {
        ("iam", "ListAttachedUserPolicies", "paginator"),
        ("iam", "ListAttachedRolePolicies", "paginator"),
        ("iam", "GetUserPolicy", "client"),
        ("iam", "GetRolePolicy", "client"),
    }
    assert rules(code) == []


def test_parameter_names_and_annotations_give_the_service() -> None:
    code = """
    from mypy_boto3_logs.client import CloudWatchLogsClient
    def by_annotation(client: "CloudWatchLogsClient"):
        client.describe_log_groupz()
    def by_name(logs_client):
        logs_client.describe_log_groupz()
    """
    found = analyse(code).findings
    assert [(f.line, f.severity) for f in found] == [(4, Severity.error), (6, Severity.warning)]
    assert "only inferred from a parameter name" in found[1].message


def test_kwargs_dicts_with_literal_keys() -> None:
    code = """
    import boto3
    def run(prefix):
        kwargs = {"logGroupNamePrefix": prefix} if prefix else {}
        params = {"limit": 50, **kwargs}
        params["logGroupPrefix"] = prefix
        return boto3.client("logs").describe_log_groups(**params)
    run("/aws")
    """
    finding = only(code, "api.unknown-parameter")
    assert finding.line == 6
    assert finding.suggestion == "did you mean 'logGroupNamePrefix'?"


def test_opaque_kwargs_do_not_report_missing_parameters() -> None:
    code = """
    import boto3
    def call(**kwargs):
        return boto3.client("dynamodb").describe_table(**kwargs)
    """
    assert rules(code) == []


def test_client_from_a_factory_function() -> None:
    code = """
    import boto3
    def client(name, region=None):
        return boto3.client(name, region_name=region)
    client("ec2").describe_instances()
    client("s3").list_buckets()
    client("s3").describe_instances()
    """
    assert ops(code) == {("ec2", "DescribeInstances", "client"), ("s3", "ListBuckets", "client")}
    assert [(f.line, f.rule) for f in analyse(code).findings] == [(7, "api.unknown-operation")]


def test_union_of_clients_reports_only_what_is_wrong_for_all() -> None:
    code = """
    import boto3
    import random
    client = boto3.client("ec2") if random.random() > 0.5 else boto3.client("s3")
    client.list_buckets()
    client.bogus_call()
    """
    assert [(f.line, f.rule) for f in analyse(code).findings] == [(6, "api.unknown-operation")]


def test_thread_pool_submissions_are_followed() -> None:
    code = """
    from concurrent.futures import ThreadPoolExecutor
    import boto3
    def fetch(client, name):
        return client.get_function(FunctionName=name)
    with ThreadPoolExecutor() as pool:
        pool.submit(fetch, boto3.client("lambda"), "f")
    """
    assert ops(code) == {("lambda", "GetFunction", "client")}


# -------------------------------------------------------------------------------------- helpers, exceptions


def test_client_helpers_are_known_and_transfers_recorded() -> None:
    code = """
    import boto3
    s3 = boto3.client("s3")
    s3.can_paginate("list_objects_v2")
    s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    s3.generate_presigned_url("get_objekt")
    s3.download_file("b", "k", "/tmp/k")
    s3.upload_file("/tmp/k", "b", "k")
    s3.meta.region_name
    s3.close()
    """
    assert [f.rule for f in analyse(code).findings] == ["api.unknown-operation"]
    assert ops(code) == {
        ("s3", "HeadObject", "client"),
        ("s3", "GetObject", "client"),
        ("s3", "PutObject", "client"),
    }


def test_client_exceptions_are_checked_against_error_shapes() -> None:
    code = """
    import boto3
    import botocore.exceptions
    s3 = boto3.client("s3")
    try:
        s3.head_bucket(Bucket="b")
    except (s3.exceptions.NoSuchBucket, s3.exceptions.ClientError):
        pass
    except s3.exceptions.BucketNotFound:
        pass
    except botocore.exceptions.NoSuchKeyError:
        pass
    """
    found = analyse(code).findings
    assert [(f.line, f.rule, f.severity) for f in found] == [
        (9, "api.unknown-exception", Severity.warning),
        (11, "api.unknown-exception", Severity.warning),
    ]


# ------------------------------------------------------------------------------------------ resource style


def test_resource_collections_actions_and_sub_resources() -> None:
    code = """
    import boto3
    ec2 = boto3.resource("ec2")
    s3 = boto3.resource("s3")
    for instance in ec2.instances.filter(Filters=[{"Name": "instance-state-name", "Values": ["running"]}]):
        print(instance.instance_type)
    ec2.Instance("i-1").stop()
    s3.Bucket("b").delete()
    s3.Bucket("b").objects.all().delete()
    ec2.Instance("i-2").wait_until_running()
    print(ec2.Volume("v-1").size)
    """
    calls = [(c.line, c.service, c.operation, c.kind, c.method) for c in analyse(code).calls]
    assert calls == [
        (5, "ec2", "DescribeInstances", "resource", "filter"),
        (7, "ec2", "StopInstances", "resource", "stop"),
        (8, "s3", "DeleteBucket", "resource", "delete"),
        (9, "s3", "ListObjects", "resource", "all"),
        (9, "s3", "DeleteObjects", "resource", "delete"),
        (10, "ec2", "DescribeInstances", "waiter", "wait_until_running"),
        (11, "ec2", "DescribeVolumes", "resource", "load"),
    ]
    assert analyse(code).findings == []


def test_resource_mistakes() -> None:
    code = """
    import boto3
    ec2 = boto3.resource("ec2")
    s3 = boto3.resource("s3")
    for i in ec2.instances:
        print(i.instance_state)
    ec2.instances.list()
    s3.list_buckets()
    s3.Bucket()
    ec2.instances.filter(Filter=[])
    """
    found = [(f.line, f.rule) for f in analyse(code).findings]
    assert found == [
        (5, "api.not-iterable"),
        (6, "api.unknown-attribute"),
        (7, "api.unknown-operation"),
        (8, "api.unknown-operation"),
        (9, "api.missing-parameter"),
        (10, "api.unknown-parameter"),
    ]
    s3_hint = next(f for f in analyse(code).findings if f.line == 8).suggestion
    assert s3_hint is not None
    assert "client method" in s3_hint


def test_resource_meta_client_and_references() -> None:
    code = """
    import boto3
    s3 = boto3.resource("s3")
    s3.meta.client.get_bucket_location(Bucket="b")
    vpc = boto3.resource("ec2").Instance("i-1").vpc
    for subnet in vpc.subnets.all():
        pass
    table = boto3.resource("dynamodb").Table("orders")
    table.query(KeyConditionExpression="pk = :v", ExpressionAttributeValues={":v": "x"})
    """
    assert ops(code) == {
        ("s3", "GetBucketLocation", "client"),
        ("ec2", "DescribeInstances", "resource"),
        ("ec2", "DescribeSubnets", "resource"),
        ("dynamodb", "Query", "resource"),
    }
    assert rules(code) == []


# ----------------------------------------------------------------------------------------------- caching


def test_analysis_is_cached_on_the_tree() -> None:
    tree = ast.parse("import boto3\nboto3.client('s3').list_buckets()\n")
    first = analyse_api(tree)
    assert analyse_api(tree) is first
    assert extract_api_calls(tree) == first.calls


def test_code_without_boto3_has_nothing() -> None:
    analysis = analyse("import json\nprint(json.dumps({'a': [x for x in range(3)]}))\n")
    assert analysis.calls == []
    assert analysis.findings == []


def test_recursion_and_odd_code_do_not_break_the_analysis() -> None:
    code = """
    import boto3
    def walk(client, depth):
        if depth:
            return walk(client, depth - 1)
        return client.list_buckets()
    walk(boto3.client("s3"), 3)
    lambda c: c.list_buckets()
    match 1:
        case 1:
            boto3.client("sts").get_caller_identity()
    """
    assert ops(code) == {("s3", "ListBuckets", "client"), ("sts", "GetCallerIdentity", "client")}


def test_dates_are_not_timestamps() -> None:
    code = """
    from datetime import date, datetime
    import boto3
    cw = boto3.client("cloudwatch")
    cw.describe_alarm_history(StartDate=date.today(), EndDate=datetime.today())
    """
    finding = only(code, "api.wrong-type")
    assert "StartDate: expected a datetime" in finding.message

"""Reference: per RDS instance, encryption / exposure / backup / Multi-AZ / deletion-protection findings."""

import json
import os
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

VARS = json.loads(os.environ.get("CLOUDINSPECT_VARS", "{}"))
MIN_RETENTION = int(VARS.get("min_backup_retention_days", 7))


def main() -> None:
    rds = boto3.client("rds")
    instances = []
    for page in rds.get_paginator("describe_db_instances").paginate():
        for db in page["DBInstances"]:
            encrypted = bool(db.get("StorageEncrypted", False))
            public = bool(db.get("PubliclyAccessible", False))
            retention = int(db.get("BackupRetentionPeriod", 0))
            multi_az = bool(db.get("MultiAZ", False))
            protected = bool(db.get("DeletionProtection", False))
            findings = []
            if not encrypted:
                findings.append("not-encrypted")
            if public:
                findings.append("publicly-accessible")
            if retention == 0:
                findings.append("no-automated-backups")
            elif retention < MIN_RETENTION:
                findings.append("short-backup-retention")
            if not multi_az:
                findings.append("single-az")
            if not protected:
                findings.append("no-deletion-protection")
            instances.append(
                {
                    "db_instance_id": db["DBInstanceIdentifier"],
                    "engine": db["Engine"],
                    "storage_encrypted": encrypted,
                    "publicly_accessible": public,
                    "backup_retention_days": retention,
                    "multi_az": multi_az,
                    "deletion_protection": protected,
                    "findings": sorted(findings),
                }
            )
    instances.sort(key=lambda i: i["db_instance_id"])
    print(json.dumps({"instances": instances, "instances_with_findings": sum(bool(i["findings"]) for i in instances)}))


if __name__ == "__main__":
    try:
        main()
    except (ClientError, BotoCoreError) as exc:
        print(f"AWS error: {exc}", file=sys.stderr)
        sys.exit(1)

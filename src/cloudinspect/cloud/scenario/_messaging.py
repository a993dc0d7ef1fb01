"""Scenario sections for SQS and SNS."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from cloudinspect.cloud.scenario._base import Generated, Strict, Tags


class Queue(Generated):
    name: str
    visibility_timeout: int = Field(30, ge=0, le=43200)
    retention_seconds: int = Field(345600, ge=60, le=1209600)
    delay_seconds: int = Field(0, ge=0, le=900)
    dead_letter_queue: str | None = Field(None, description="Name of the queue failed messages move to.")
    max_receive_count: int = Field(5, ge=1, le=1000)
    encryption: Literal["none", "sqs", "kms"] = "sqs"
    kms_key: str | None = Field(None, description="Key alias name; 'aws/sqs' for the AWS managed key.")
    messages: int = Field(0, ge=0, le=100_000, description="Messages waiting in the queue.")
    tags: Tags = Field(default_factory=dict)

    @property
    def fifo(self) -> bool:
        return self.name.endswith(".fifo")


class SqsSection(Strict):
    queues: list[Queue] = Field(default_factory=list)


class Subscription(Strict):
    protocol: Literal["email", "email-json", "sqs", "lambda", "https", "http", "sms"]
    endpoint: str = Field(description="Address, URL, phone, or the name of a queue/function in this scenario.")


class Topic(Generated):
    name: str
    kms_key: str | None = Field(None, description="Key alias name; 'aws/sns' for the AWS managed key.")
    display_name: str = ""
    tags: Tags = Field(default_factory=dict)
    subscriptions: list[Subscription] = Field(default_factory=list)


class SnsSection(Strict):
    topics: list[Topic] = Field(default_factory=list)

"""The emulated AWS account: scenarios, seeding, the moto server's lifecycle, and targets.

from cloudinspect.cloud import start_emulator
with start_emulator("baseline") as emu:
    emu.client("s3").list_buckets()
"""

from cloudinspect.cloud.emulator import (
    Emulator,
    EmulatorError,
    ServerProcess,
    connect_emulator,
    reset_server,
    start_emulator,
    start_server,
)
from cloudinspect.cloud.inventory import count_resources
from cloudinspect.cloud.loader import builtin_scenario_dir, get_scenario, load_scenario_file, load_scenarios
from cloudinspect.cloud.scenario import Fault, Scenario
from cloudinspect.cloud.seed import SeedContext, SeedError, SeedReport, seed_scenario, seeder
from cloudinspect.cloud.series import Series
from cloudinspect.cloud.target import AwsTarget, EmulatorTarget, EndpointTarget, Target, parse_target

__all__ = [
    "AwsTarget",
    "Emulator",
    "EmulatorError",
    "EmulatorTarget",
    "EndpointTarget",
    "Fault",
    "Scenario",
    "SeedContext",
    "SeedError",
    "SeedReport",
    "Series",
    "ServerProcess",
    "Target",
    "builtin_scenario_dir",
    "connect_emulator",
    "count_resources",
    "get_scenario",
    "load_scenario_file",
    "load_scenarios",
    "parse_target",
    "reset_server",
    "seed_scenario",
    "seeder",
    "start_emulator",
    "start_server",
]

#!/usr/bin/env python3
"""infra/scripts/deploy.py against a stand-in CloudFormation and SAM: a first creation, its
failure, the retry that deletes the rolled-back stack, an ordinary update, a stuck stack.

    .venv/bin/python3 -m unittest infra/scripts/test_deploy.py
"""

import os
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import deploy  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

CONFIG = """
[prod.global.parameters]
stack_name = "journey-prod"

[prod.deploy.parameters]
parameter_overrides = "EnvName=prod SweepSchedule=\\"rate(15 minutes)\\""
"""


CHANGELOG = """# Changelog
## 0.4.0 — unreleased
## 0.3.0 — 2026-12-04 — forward only
## 0.2.0 — 2026-12-01
"""


class CloudFormation:
    """Holds one stack's status; a deletion removes it."""

    def __init__(self, status, release=None):
        self.status = status
        self.release = release
        self.deleted = False

    def describe_stacks(self, StackName):
        if self.status is None:
            error = {"Error": {"Code": "ValidationError", "Message": f"Stack with id {StackName} does not exist"}}
            raise ClientError(error, "DescribeStacks")
        parameters = [{"ParameterKey": "EnvName", "ParameterValue": "prod"}]
        if self.release:
            parameters.append({"ParameterKey": "Release", "ParameterValue": self.release})
        stack = {"StackName": StackName, "StackStatus": self.status, "Parameters": parameters}
        stack["Outputs"] = [{"OutputKey": "ApiUrl", "OutputValue": "https://api.example"}]
        return {"Stacks": [stack]}

    def delete_stack(self, StackName):
        self.deleted = True
        self.status = None

    def get_waiter(self, name):
        assert name == "stack_delete_complete"
        return types.SimpleNamespace(wait=lambda StackName: None)


class Sam:
    """Records each `sam deploy`; answers with the given exit codes in turn."""

    def __init__(self, *codes, creates=True):
        self.codes = list(codes)
        self.calls = []
        self.creates = creates

    def __call__(self, cmd):
        self.calls.append(cmd)
        code = self.codes.pop(0)
        if code == 0 and self.creates and self.stack.status in (None, "REVIEW_IN_PROGRESS"):
            self.stack.status = "CREATE_COMPLETE"
        return code

    def overrides(self, n):
        cmd = self.calls[n]
        return cmd[cmd.index("--parameter-overrides") + 1] if "--parameter-overrides" in cmd else None


class DeployTest(unittest.TestCase):
    def setUp(self):
        f = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
        f.write(CONFIG)
        f.close()
        self.addCleanup(os.unlink, f.name)
        self.args = types.SimpleNamespace(
            config_file=f.name,
            config_env="prod",
            sam="sam",
            release="0.4.0",
            forward_only=deploy.forward_only(CHANGELOG),
            cross_forward_only=False,
        )
        self.said = []

    def run_with(self, cloudformation, sam, answers=None):
        sam.stack = cloudformation
        def health(url):
            self.asked = url
            if answers is None:
                return {"status": "ok", "version": self.args.release}
            if isinstance(answers, Exception):
                raise answers
            return answers

        return deploy.deploy(self.args, cloudformation, sam, self.said.append, health)

    def test_a_first_creation_runs_unprotected_then_turns_protection_on(self):
        sam = Sam(0, 0)
        self.assertEqual(self.run_with(CloudFormation(None), sam), 0)
        self.assertEqual(
            sam.overrides(0),
            'EnvName=prod SweepSchedule="rate(15 minutes)" Release=0.4.0 TableDeletionProtection=false',
        )
        self.assertTrue(sam.overrides(1).endswith("TableDeletionProtection=true"))
        self.assertIn("EnvName=prod", sam.overrides(1))

    def test_a_deploy_ends_with_the_apis_health_naming_the_release(self):
        self.assertEqual(self.run_with(CloudFormation("UPDATE_COMPLETE", "0.4.0"), Sam(0)), 0)
        self.assertEqual(self.asked, "https://api.example")
        self.assertIn("smoke check passed", self.said[-1])
        # an older version still serving, or no answer: the deploy is reported failed
        stale = {"status": "ok", "version": "0.3.1"}
        self.assertEqual(self.run_with(CloudFormation("UPDATE_COMPLETE", "0.4.0"), Sam(0), stale), 1)
        self.assertIn("not version 0.4.0", self.said[-1])
        down = OSError("connection refused")
        self.assertEqual(self.run_with(CloudFormation("UPDATE_COMPLETE", "0.4.0"), Sam(0), down), 1)
        self.assertIn("did not answer", self.said[-1])

    def test_a_declined_change_set_creates_nothing_and_stops_there(self):
        cloudformation, sam = CloudFormation(None), Sam(0, creates=False)
        self.assertEqual(self.run_with(cloudformation, sam), 1)
        self.assertEqual(len(sam.calls), 1, "no second deploy with the table protected")
        self.assertIn("declined", self.said[-1])

    def test_a_failed_first_creation_stops_and_says_how_to_retry(self):
        sam = Sam(1)
        self.assertEqual(self.run_with(CloudFormation(None), sam), 1)
        self.assertEqual(len(sam.calls), 1, "protection is not turned on for a failed creation")
        self.assertIn("ROLLBACK_COMPLETE", self.said[-1])

    def test_the_retry_deletes_the_rolled_back_stack_and_creates_it_again(self):
        cloudformation, sam = CloudFormation("ROLLBACK_COMPLETE"), Sam(0, 0)
        self.assertEqual(self.run_with(cloudformation, sam), 0)
        self.assertTrue(cloudformation.deleted)
        self.assertIn("TableDeletionProtection=false", sam.overrides(0))

    def test_an_existing_stack_is_updated_as_samconfig_says_with_the_release(self):
        for status in ["CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"]:
            cloudformation, sam = CloudFormation(status, "0.3.1"), Sam(0)
            self.assertEqual(self.run_with(cloudformation, sam), 0)
            self.assertFalse(cloudformation.deleted)
            self.assertEqual(
                sam.overrides(0),
                'EnvName=prod SweepSchedule="rate(15 minutes)" Release=0.4.0 TableDeletionProtection=true',
                status,
            )

    def test_crossing_a_forward_only_release_needs_the_flag_either_way(self):
        for deployed, target in [("0.2.0", "0.4.0"), (None, "0.4.0"), ("0.4.0", "0.2.0")]:
            self.args.release = target
            sam = Sam(0)
            self.assertEqual(self.run_with(CloudFormation("UPDATE_COMPLETE", deployed), sam), 2)
            self.assertEqual(sam.calls, [], f"{deployed} -> {target}")
            self.assertIn("0.3.0", self.said[-1])
            self.assertIn("FORWARD_ONLY=yes", self.said[-1])
            self.args.cross_forward_only = True
            self.assertEqual(self.run_with(CloudFormation("UPDATE_COMPLETE", deployed), sam), 0)
            self.args.cross_forward_only = False
        # on either side of it, no flag
        for deployed, target in [("0.3.0", "0.4.0"), ("0.4.0", "0.3.0"), ("0.1.0", "0.2.0")]:
            self.args.release = target
            sam = Sam(0)
            self.assertEqual(self.run_with(CloudFormation("UPDATE_COMPLETE", deployed), sam), 0)

    def test_the_changelog_marks_what_is_forward_only(self):
        root = os.path.join(os.path.dirname(__file__), "..", "..")
        with open(os.path.join(root, "CHANGELOG.md"), encoding="utf-8") as f:
            marked = deploy.forward_only(f.read())
        self.assertIn((0, 3, 0), marked)
        self.assertEqual(deploy.version(deploy.workspace_version(root)) >= (0, 3, 0), True)

    def test_a_stack_whose_rollback_failed_is_left_with_the_remedy(self):
        cloudformation, sam = CloudFormation("ROLLBACK_FAILED"), Sam()
        self.assertEqual(self.run_with(cloudformation, sam), 1)
        self.assertEqual(sam.calls, [])
        self.assertFalse(cloudformation.deleted)
        self.assertIn("delete-stack --stack-name journey-prod", self.said[-1])

    def test_an_unexecuted_change_set_counts_as_a_first_creation(self):
        sam = Sam(0, 0)
        self.assertEqual(self.run_with(CloudFormation("REVIEW_IN_PROGRESS"), sam), 0)
        self.assertIn("TableDeletionProtection=false", sam.overrides(0))


if __name__ == "__main__":
    unittest.main()

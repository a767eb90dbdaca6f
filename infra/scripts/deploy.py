#!/usr/bin/env python3
"""`make deploy`: `sam deploy` that survives a stack's failed first creation, records the
release it deploys and refuses to cross a forward-only release unasked.

Each deploy passes the release (`Cargo.toml`'s version) as the stack's `Release` parameter,
so the next one knows what runs. A release `CHANGELOG.md` marks **forward only** cannot be
rolled back: deploying across it, up or down, needs `--cross-forward-only`
(`make deploy FORWARD_ONLY=yes`). A stack that records no release (deployed before versions)
counts as older than every release.

A failed first creation leaves the stack in ROLLBACK_COMPLETE, which CloudFormation can
neither update nor create again under the same name. The template's stateful resources
(table, staff pool, log bucket) are `RetainExceptOnCreate`, so that rollback removed them
and the stack holds nothing: this deletes the empty stack and creates it again. DynamoDB
refuses to delete a protected table, rollback included, so a first creation runs with
`TableDeletionProtection=false` and, once it succeeded, one more deploy turns protection on.

    deploy.py --config-file infra/samconfig.toml --config-env dev [--sam .venv/bin/sam]
              [--cross-forward-only]

A stack in any other failed state (ROLLBACK_FAILED, UPDATE_ROLLBACK_FAILED…) is left to the
operator, with what to do (docs/deploy.md, *When a deploy fails*).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.request

from botocore.exceptions import ClientError

# A stack that is not there, or only a change set that was never executed: a first creation.
ABSENT = {None, "REVIEW_IN_PROGRESS"}
# A failed first creation rolled back: nothing in it, deleted and created again.
ROLLED_BACK = "ROLLBACK_COMPLETE"
# States an update cannot start from, and this script does not repair.
STUCK = {
    "ROLLBACK_FAILED": "the rollback of the first creation could not delete a resource "
    "(the stack's events name it): delete it by hand, then "
    "`aws cloudformation delete-stack --stack-name {stack}` and deploy again",
    "DELETE_FAILED": "a deletion could not delete a resource (the stack's events name it): "
    "delete it by hand, delete the stack again, then deploy",
    "UPDATE_ROLLBACK_FAILED": "`aws cloudformation continue-update-rollback --stack-name "
    "{stack}` (skipping the resource the events name if it is gone), then deploy again",
}


def settings(config_file, env):
    """The stack name and the parameter overrides samconfig gives `env`."""
    with open(config_file, "rb") as f:
        config = tomllib.load(f)
    section = config.get(env, {})
    stack = section.get("global", {}).get("parameters", {}).get("stack_name")
    deploy = section.get("deploy", {}).get("parameters", {})
    stack = deploy.get("stack_name", stack)
    if not stack:
        raise SystemExit(f"deploy: {config_file} names no stack_name for {env}")
    return stack, deploy.get("parameter_overrides", "")


def describe(cloudformation, stack):
    """(status, the release it records) of the stack; (None, None) when there is none."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as e:
        if "does not exist" in str(e):
            return None, None
        raise
    if not stacks:
        return None, None
    parameters = {p["ParameterKey"]: p.get("ParameterValue") for p in stacks[0].get("Parameters", [])}
    return stacks[0]["StackStatus"], parameters.get("Release")


def version(text):
    """`1.2.3` as a comparable tuple; None for anything else (`unknown`, empty)."""
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", (text or "").strip())
    return tuple(int(n) for n in match.groups()) if match else None


def workspace_version(root):
    """`[workspace.package] version` in Cargo.toml."""
    with open(os.path.join(root, "Cargo.toml"), "rb") as f:
        return tomllib.load(f)["workspace"]["package"]["version"]


def forward_only(changelog):
    """The releases CHANGELOG.md's headings mark forward only."""
    marked = re.findall(r"^## (\d+\.\d+\.\d+)\b.*\bforward only\b", changelog, re.MULTILINE)
    return sorted(version(v) for v in marked)


def crossed(deployed, target, one_way):
    """The forward-only releases between the deployed release and the target, either way; a
    stack that records none is older than all of them."""
    low = version(deployed) or (0, 0, 0)
    high = version(target)
    low, high = min(low, high), max(low, high)
    return [v for v in one_way if low < v <= high]


def plan(status):
    """(delete the stack first, this is a first creation) for a stack in `status`; None for a
    state only the operator can repair (`STUCK` says how)."""
    if status in STUCK:
        return None
    if status == ROLLED_BACK:
        return True, True
    return False, status in ABSENT


def api_url(cloudformation, stack):
    """The API's own address (`ExecuteApiUrl`: a new custom domain's DNS may not point at it
    yet), else `ApiUrl`."""
    stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    outputs = stacks[0].get("Outputs", []) if stacks else []
    values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    return values.get("ExecuteApiUrl") or values.get("ApiUrl")


def fetch_health(url):
    """`GET <url>/health`'s JSON body."""
    with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=10) as answer:
        return json.load(answer)


def smoke(cloudformation, stack, release, health, say):
    """After a deploy: the API answers, and with the release just deployed. A failure here
    means the deploy went through but does not serve: docs/deploy.md 8 (roll-back)."""
    url = api_url(cloudformation, stack)
    if not url:
        say(f"deploy: {stack} has no ApiUrl output; no smoke check")
        return 1
    try:
        answer = health(url)
    except Exception as e:  # any failure to get an answer is the finding
        say(f"deploy: smoke check failed: {url}/health did not answer ({e})")
        return 1
    if answer.get("version") != release:
        say(f"deploy: smoke check failed: {url}/health says {answer}, not version {release}")
        return 1
    say(f"deploy: smoke check passed: {url}/health runs {release}")
    return 0


def dotted(v):
    return ".".join(map(str, v))


def deploy(args, cloudformation, run, say=print, health=fetch_health):
    code = sam_deploy(args, cloudformation, run, say)
    if code != 0:
        return code
    stack, _ = settings(args.config_file, args.config_env)
    return smoke(cloudformation, stack, args.release, health, say)


def sam_deploy(args, cloudformation, run, say):
    stack, overrides = settings(args.config_file, args.config_env)
    status, deployed = describe(cloudformation, stack)
    if status not in ABSENT and status not in STUCK and status != ROLLED_BACK:
        blocking = crossed(deployed, args.release, args.forward_only)
        if blocking and not args.cross_forward_only:
            say(
                f"deploy: {stack} runs {deployed or 'a release before versions'}; deploying "
                f"{args.release} crosses {', '.join(map(dotted, blocking))}, which cannot be "
                "rolled back (CHANGELOG.md). Read docs/deploy.md 8, then run it again with "
                "FORWARD_ONLY=yes (make) or --cross-forward-only."
            )
            return 2
    overrides = f"{overrides} Release={args.release}".strip()
    steps = plan(status)
    if steps is None:
        say(f"deploy: {stack} is {status}; " + STUCK[status].format(stack=stack))
        return 1
    delete_first, first = steps
    if delete_first:
        say(
            f"deploy: {stack} is {ROLLED_BACK}: its first creation failed and was rolled "
            "back, leaving an empty stack that cannot be updated. Deleting it to create it "
            "again (fix what failed first: the stack's events say what it was)."
        )
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack)
    sam = [args.sam, "deploy", "--config-file", args.config_file, "--config-env", args.config_env]
    protected = f"{overrides} TableDeletionProtection=true"
    if not first:
        # said every time: SAM would otherwise keep the stack's previous value, and a stack
        # whose protecting deploy was interrupted would stay unprotected
        return run(sam + ["--parameter-overrides", protected])
    say(f"deploy: creating {stack}, its table unprotected until the creation succeeds")
    code = run(sam + ["--parameter-overrides", f"{overrides} TableDeletionProtection=false".strip()])
    if code != 0:
        say(
            "deploy: the first creation failed. CloudFormation rolls it back and removes what "
            "it made (the stack ends ROLLBACK_COMPLETE); fix the cause and run make deploy "
            "again, which deletes the empty stack first."
        )
        return code
    status, _ = describe(cloudformation, stack)
    if status != "CREATE_COMPLETE":
        # a declined change set ends sam deploy with 0 and creates nothing
        say(f"deploy: {stack} is {status}, not created (was the change set declined?)")
        return 1
    say(f"deploy: {stack} created; turning the table's deletion protection on")
    return run(sam + ["--parameter-overrides", protected])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config-file", required=True)
    parser.add_argument("--config-env", required=True)
    parser.add_argument("--sam", default="sam")
    parser.add_argument("--cross-forward-only", action="store_true")
    args = parser.parse_args()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    args.release = workspace_version(root)
    with open(os.path.join(root, "CHANGELOG.md"), encoding="utf-8") as f:
        args.forward_only = forward_only(f.read())
    import boto3  # the SAM CLI's own dependency, in .venv

    cloudformation = boto3.client("cloudformation")
    sys.exit(deploy(args, cloudformation, lambda cmd: subprocess.call(cmd)))


if __name__ == "__main__":
    main()

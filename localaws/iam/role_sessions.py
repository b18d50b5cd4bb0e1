"""Temporary credentials of an IAM role, as an AWS service gets them for the work it does with that role: the
local Lambda runtime for a function's execution role, the local Firehose for a delivery stream's role.

The runtime calls STS AssumeRole through the endpoint as the service principal (its access key id is the
principal's name, e.g. ``lambda.amazonaws.com``), so the role's trust policy is what lets it in; the
credentials are renewed before they expire (botocore's refreshable credentials)."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import RefreshableCredentials

SERVICE_SECRET = "test"  # like the admin's: the local endpoint's keys are not secrets
RENEW_BEFORE = dt.timedelta(minutes=10)
SESSION_SECONDS = 3600


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    expiration: dt.datetime

    def environment(self) -> dict[str, str]:
        """The variables AWS Lambda gives a function's process."""
        return {"AWS_ACCESS_KEY_ID": self.access_key_id, "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
                "AWS_SESSION_TOKEN": self.session_token}


class RoleSession:
    """A role assumed by ``service`` (e.g. ``lambda.amazonaws.com``); ``credentials()`` renews them when they
    have less than ten minutes left."""

    def __init__(self, role_arn: str, service: str, session_name: str, external_id: str | None = None) -> None:
        self.role_arn = role_arn
        self.service = service
        self.session_name = session_name[:64]
        self.external_id = external_id
        self._lock = threading.Lock()
        self._current: RoleCredentials | None = None

    def credentials(self) -> RoleCredentials:
        with self._lock:
            now = dt.datetime.now(dt.UTC)
            if self._current is None or self._current.expiration - now < RENEW_BEFORE:
                self._current = self._assume()
            return self._current

    def _assume(self) -> RoleCredentials:
        sts = boto3.client("sts", aws_access_key_id=self.service, aws_secret_access_key=SERVICE_SECRET,
                           aws_session_token=None)
        kwargs: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": self.session_name,
                                  "DurationSeconds": SESSION_SECONDS}
        if self.external_id:
            kwargs["ExternalId"] = self.external_id
        found = sts.assume_role(**kwargs)["Credentials"]
        expiration = found["Expiration"]
        if expiration.tzinfo is None:
            expiration = expiration.replace(tzinfo=dt.UTC)
        return RoleCredentials(found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"], expiration)

    def botocore_credentials(self) -> RefreshableCredentials:
        """Credentials for a botocore session that renew themselves (botocore asks ``refresh`` near expiry)."""
        def refresh() -> dict[str, str]:
            found = self.credentials()
            return {"access_key": found.access_key_id, "secret_key": found.secret_access_key,
                    "token": found.session_token, "expiry_time": found.expiration.isoformat()}

        return RefreshableCredentials.create_from_metadata(metadata=refresh(), refresh_using=refresh,
                                                           method="assume-role")

    def client(self, service: str, config: Config | None = None) -> Any:
        return boto3.Session(botocore_session=with_credentials(botocore.session.get_session(), self)).client(
            service, config=config)


def with_credentials(core: botocore.session.Session, role: RoleSession | None) -> botocore.session.Session:
    """``core`` signing as ``role`` (botocore has no public setter for refreshable credentials)."""
    if role is not None:
        core._credentials = role.botocore_credentials()
    return core

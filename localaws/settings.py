"""Where the local platform lives: data directory, ports, and the environment its processes share.

Application code never imports this: it reads the standard AWS variables. Only the local tooling
(CLI, supervisor, tests) decides those variables' values here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 4566
DEFAULT_HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@dataclass(frozen=True)
class LocalSettings:
    data_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    iam: str = "enforce"  # the gateway's IAM mode: enforce, audit or off

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    def aws_env(self) -> dict[str, str]:
        """The only knobs application code sees: the standard AWS SDK variables."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
            "AWS_REGION": DEFAULT_REGION,
            **LOCAL_CREDENTIALS,
        }

    def shell_exports(self) -> str:
        """``aws_env()`` as one line to paste into a shell."""
        return "export " + " ".join(f"{key}={value}" for key, value in self.aws_env().items())


def default_data_dir() -> Path:
    return Path(os.environ.get("WILDRYDES_DATA_DIR", REPO_ROOT / ".wildrydes")).resolve()


def settings_from_env() -> LocalSettings:
    return LocalSettings(
        data_dir=default_data_dir(),
        host=os.environ.get("WILDRYDES_HOST", DEFAULT_HOST),
        port=int(os.environ.get("WILDRYDES_PORT", DEFAULT_PORT)),
    )

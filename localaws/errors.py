"""The one error of the local runtime a person acts on: its message says what is wrong and what to do. The
`wildrydes` command prints it as one line and exits 1, never with a traceback."""


class LocalError(Exception):
    """A failure of the local runtime the user can act on."""


def endpoint_not_running(url: str) -> LocalError:
    return LocalError(f"the local endpoint is not running at {url}: start it with `wildrydes local up`")

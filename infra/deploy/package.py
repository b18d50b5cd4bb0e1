"""The Lambda package: one deterministic zip with the handler modules and the repository modules
they import, nothing else.

The template gives every function the same code (``LambdaCodeBucket``/``LambdaCodeKey``), so the
package is the union of each handler's import closure; ``LambdaPackage.handler_files`` keeps each
handler's own closure, which the dry run prints and the tests check against ``modulefinder`` and
against what a fresh interpreter actually loads from the zip.

Handlers may import the standard library, boto3/botocore (present in the Lambda Python runtime, so not
packaged) and modules of their own package tree; anything else is an error, because it would be
missing on AWS. The zip has sorted entries, a fixed timestamp and fixed permissions, and is stored
uncompressed (deflate output can differ between zlib builds), so the same sources always give the same
bytes and the same sha256 on any machine.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from infra.deploy import REPO_ROOT, DeployError

# Modules the Lambda Python runtime provides besides the standard library.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
# The only package tree handler code may come from.
ALLOWED_PACKAGE = "streaming.lambdas"
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class LambdaPackage:
    files: dict[str, bytes]  # archive path -> content, sorted by path
    zip_bytes: bytes
    # handler (module.function) -> the archive paths it imports, transitively (sorted); the union is ``files``
    handler_files: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.zip_bytes).hexdigest()

    @property
    def code_sha256_b64(self) -> str:
        """The form Lambda reports as ``CodeSha256``."""
        return base64.b64encode(hashlib.sha256(self.zip_bytes).digest()).decode()

    @property
    def s3_key(self) -> str:
        return f"lambda/wildrydes-lambdas-{self.sha256}.zip"

    def manifest(self) -> list[dict[str, object]]:
        """Every file of the zip: archive path, size in bytes and sha256 of its content."""
        return [{"path": path, "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
                for path, content in self.files.items()]

    def listing(self) -> list[str]:
        width = max((len(path) for path in self.files), default=0)
        return [f"{entry['path']:<{width}}  {entry['size']:>7} bytes  sha256 {entry['sha256']}"
                for entry in self.manifest()]


def build_package(handlers: list[str], root: Path = REPO_ROOT) -> LambdaPackage:
    """The package for ``handlers`` (``module.function`` strings) from the sources under ``root``."""
    files: dict[str, bytes] = {}
    handler_files: dict[str, tuple[str, ...]] = {}
    for handler in handlers:
        module, _, function = handler.rpartition(".")
        if not module or not function:
            raise DeployError(f"Lambda handler {handler!r} is not of the form module.function")
        if not _in_allowed_package(module):
            raise DeployError(f"Lambda handler {handler} is outside the {ALLOWED_PACKAGE} package")
        path = _module_file(module, root)
        if path is None:
            raise DeployError(f"Lambda handler module {module} not found under {root}")
        _check_defines(path, function, handler)
        own: dict[str, bytes] = {}
        _collect(module, root, own)
        handler_files[handler] = tuple(sorted(own))
        files.update(own)
    ordered = dict(sorted(files.items()))
    return LambdaPackage(files=ordered, zip_bytes=_zip(ordered), handler_files=dict(sorted(handler_files.items())))


def _in_allowed_package(module: str) -> bool:
    return module == ALLOWED_PACKAGE or module.startswith(ALLOWED_PACKAGE + ".")


def _module_file(module: str, root: Path) -> Path | None:
    base = root.joinpath(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _check_defines(path: Path, function: str, handler: str) -> None:
    tree = ast.parse(path.read_bytes(), filename=str(path))
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}
    names |= {target.id for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name)}
    names |= {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
              for alias in node.names}
    if function not in names:
        raise DeployError(f"Lambda handler {handler}: {path.name} defines no {function}")


def _collect(module: str, root: Path, files: dict[str, bytes]) -> None:
    """Add ``module``, its parent packages' ``__init__`` files and every repository module they import."""
    parts = module.split(".")
    for depth in range(1, len(parts) + 1):
        name = ".".join(parts[:depth])
        path = _module_file(name, root)
        if path is None:
            continue  # a namespace package: nothing to add
        archive_path = path.relative_to(root).as_posix()
        if archive_path in files:
            continue
        files[archive_path] = path.read_bytes()
        for imported in imports_of(path, name):
            _admit(imported, name, root, files)


def _admit(imported: str, importer: str, root: Path, files: dict[str, bytes]) -> None:
    top = imported.split(".")[0]
    if top in sys.stdlib_module_names or top in RUNTIME_PROVIDED:
        return
    if _module_file(top, root) is None and not (root / top).is_dir():
        raise DeployError(
            f"{importer} imports {imported}, which is neither the standard library nor boto3/botocore: "
            "the Lambda runtime would not have it"
        )
    # ``from package import name`` may name a submodule or an attribute: take the longest module prefix.
    parts = imported.split(".")
    for depth in range(len(parts), 0, -1):
        candidate = ".".join(parts[:depth])
        if _module_file(candidate, root) is not None:
            break
    else:
        raise DeployError(f"{importer} imports {imported}, which is not in the repository")
    if not _in_allowed_package(candidate) and not ALLOWED_PACKAGE.startswith(candidate + "."):
        raise DeployError(
            f"{importer} imports {candidate}, outside the {ALLOWED_PACKAGE} package that is deployed to Lambda"
        )
    _collect(candidate, root, files)


def imports_of(path: Path, module: str) -> list[str]:
    """Absolute names of every module imported by ``path`` (the module ``module``), excluding imports
    under ``if TYPE_CHECKING:``. ``from x import y`` yields both ``x`` and ``x.y``."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    is_package = path.name == "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found: list[str] = []
    for node in _walk_runtime(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package, path)
            if base == "__future__":
                continue
            found.append(base)
            found.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def _absolute(name: str | None, level: int, package: str, path: Path) -> str:
    if level == 0:
        return name or ""
    parts = package.split(".") if package else []
    if level - 1 >= len(parts):
        raise DeployError(f"{path}: relative import beyond the top-level package")
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _walk_runtime(tree: ast.AST) -> list[ast.AST]:
    """All nodes except those inside ``if TYPE_CHECKING:`` blocks (never executed at run time)."""
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        nodes.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for archive_path, content in files.items():
            info = zipfile.ZipInfo(archive_path, date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o100644 << 16  # a regular file, rw-r--r--
            info.create_system = 3  # Unix, so the permissions above are honoured
            archive.writestr(info, content)
    return buffer.getvalue()

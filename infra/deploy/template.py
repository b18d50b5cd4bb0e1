"""The CloudFormation template as data: loading (short-form intrinsics included), parameter validation,
intrinsic-function resolution and resource ordering, for the local deployer and the AWS dry run.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfn_tools import load_yaml

from infra.deploy import REPO_ROOT, DeployError

TEMPLATE_PATH = REPO_ROOT / "infra" / "template.yaml"
LOCAL_METADATA_KEY = "Wildrydes::Local"


class _NoValue:
    """``AWS::NoValue``: the property or list item it stands for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


class Unresolved(Exception):  # noqa: N818 - a signal, not an error shown to anyone
    """A reference to a resource whose attributes are not known yet."""

    def __init__(self, logical_id: str) -> None:
        super().__init__(logical_id)
        self.logical_id = logical_id


@dataclass(frozen=True)
class Template:
    path: Path
    text: str
    body: dict[str, Any]

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Parameters", {})

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Resources", {})

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        return self.body.get("Outputs", {})

    @property
    def conditions(self) -> dict[str, Any]:
        return self.body.get("Conditions", {})

    @property
    def mappings(self) -> dict[str, Any]:
        return self.body.get("Mappings", {})

    def local_min_values(self) -> dict[str, float]:
        """Parameter minima the local deployer uses instead of the template's (see the template)."""
        local = self.body.get("Metadata", {}).get(LOCAL_METADATA_KEY, {})
        return {name: float(value) for name, value in local.get("ParameterMinValues", {}).items()}

    def function_handlers(self) -> list[str]:
        """Every Lambda handler named in the template (``module.function``), sorted."""
        return sorted(
            {
                resource["Properties"]["Handler"]
                for resource in self.resources.values()
                if resource.get("Type") == "AWS::Lambda::Function"
            }
        )


def load_template(path: Path = TEMPLATE_PATH) -> Template:
    try:
        text = path.read_text()
    except OSError as error:
        raise DeployError(f"cannot read the template {path}: {error.strerror}") from None
    try:
        loaded = load_yaml(text)
    except Exception as error:  # cfn-flip raises yaml errors of several kinds
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DeployError(f"{path} is not valid YAML: {first}") from None
    # ODicts from cfn-flip -> plain dicts and lists
    body = json.loads(json.dumps(loaded))
    if not isinstance(body, dict) or not isinstance(body.get("Resources"), dict):
        raise DeployError(f"{path} is not a CloudFormation template: it has no Resources section")
    return Template(path=path, text=text, body=body)


# ---------------------------------------------------------------------------------- parameters
def parse_parameter_overrides(items: Iterable[str]) -> dict[str, str]:
    """``["K=V", ...]`` from the command line -> ``{"K": "V"}``."""
    overrides: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise DeployError(f"--parameter expects KEY=VALUE, got {item!r}")
        overrides[key] = value
    return overrides


def resolve_parameters(
    template: Template,
    overrides: Mapping[str, Any],
    *,
    min_values: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Every template parameter's value: the override, else the default; validated and typed
    (``Number`` -> int or float). ``min_values`` replaces the template's MinValue per parameter."""
    declared = template.parameters
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise DeployError(
            f"unknown parameter {', '.join(unknown)}: the template's parameters are {', '.join(declared)}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        if name in overrides:
            raw = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise DeployError(f"parameter {name} has no default: pass --parameter {name}=VALUE")
        minimum = (min_values or {}).get(name, spec.get("MinValue"))
        values[name] = _validate(name, spec, raw, minimum)
    return values


def _validate(name: str, spec: Mapping[str, Any], raw: Any, minimum: Any) -> Any:
    kind = spec.get("Type", "String")
    allowed = spec.get("AllowedValues")
    hint = f" ({spec['ConstraintDescription']})" if "ConstraintDescription" in spec else ""
    if kind == "Number":
        try:
            number = float(raw)
        except (TypeError, ValueError):
            raise DeployError(f"parameter {name}={raw!r} must be a number") from None
        value: Any = int(number) if number.is_integer() else number
        if minimum is not None and number < float(minimum):
            raise DeployError(f"parameter {name}={raw} is below its minimum {_num(minimum)}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise DeployError(f"parameter {name}={raw} is above its maximum {_num(spec['MaxValue'])}")
        if allowed is not None and number not in [float(a) for a in allowed]:
            raise DeployError(f"parameter {name}={raw} must be one of {', '.join(map(str, allowed))}")
        return value
    if kind in ("CommaDelimitedList", "List<Number>") or kind.startswith("List<"):
        items = raw if isinstance(raw, list) else [part.strip() for part in str(raw).split(",")]
        return [str(item) for item in items]
    value = str(raw)
    if allowed is not None and value not in [str(a) for a in allowed]:
        raise DeployError(f"parameter {name}={value!r} must be one of {', '.join(map(str, allowed))}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise DeployError(f"parameter {name}={value!r} is shorter than {spec['MinLength']} characters{hint}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise DeployError(f"parameter {name}={value!r} is longer than {spec['MaxLength']} characters{hint}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        raise DeployError(f"parameter {name}={value!r} does not match {spec['AllowedPattern']}{hint}")
    return value


def _num(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


# ---------------------------------------------------------------------------------- intrinsics
def pseudo_parameters(account_id: str, region: str, stack_name: str, partition: str = "aws") -> dict[str, Any]:
    return {
        "AWS::AccountId": account_id,
        "AWS::Region": region,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:{partition}:cloudformation:{region}:{account_id}:stack/{stack_name}/local",
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NoValue": NO_VALUE,
    }


@dataclass
class Scope:
    """What intrinsic functions can see: parameters, pseudo parameters, conditions, resources."""

    parameters: Mapping[str, Any]
    pseudo: Mapping[str, Any]
    mappings: Mapping[str, Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.refs:
            return self.refs[name]
        raise Unresolved(name)

    def get_att(self, logical_id: str, attribute: str) -> Any:
        attrs = self.attrs.get(logical_id)
        if attrs is None:
            raise Unresolved(logical_id)
        if attribute not in attrs:
            raise DeployError(f"{logical_id} has no attribute {attribute} in the local deployer")
        return attrs[attribute]


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def resolve(value: Any, scope: Scope) -> Any:
    """``value`` with every intrinsic function evaluated; ``AWS::NoValue`` items removed."""
    if isinstance(value, list):
        items = [resolve(item, scope) for item in value]
        return [item for item in items if item is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        (key, arg), = value.items()
        if key == "Ref":
            return scope.ref(arg)
        if key == "Condition":
            return _condition(arg, scope)
        if key.startswith("Fn::"):
            return _function(key, arg, scope)
    resolved = {key: resolve(item, scope) for key, item in value.items()}
    return {key: item for key, item in resolved.items() if item is not NO_VALUE}


def _function(name: str, arg: Any, scope: Scope) -> Any:
    if name == "Fn::GetAtt":
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        return scope.get_att(logical_id, resolve(attribute, scope))
    if name == "Fn::Sub":
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        local = {key: resolve(item, scope) for key, item in variables.items()}
        return _SUB_VARIABLE.sub(lambda match: _sub_variable(match.group(1), local, scope), text)
    if name == "Fn::Join":
        delimiter, items = arg
        return delimiter.join(str(item) for item in resolve(items, scope))
    if name == "Fn::Select":
        index, items = resolve(arg, scope)
        return items[int(index)]
    if name == "Fn::Split":
        delimiter, text = resolve(arg, scope)
        return text.split(delimiter)
    if name == "Fn::If":
        condition, when_true, when_false = arg
        return resolve(when_true if _condition(condition, scope) else when_false, scope)
    if name == "Fn::FindInMap":
        map_name, top, second = resolve(arg, scope)
        return scope.mappings[map_name][top][second]
    if name == "Fn::Base64":
        return base64.b64encode(str(resolve(arg, scope)).encode()).decode()
    if name in ("Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"):
        return _condition_function(name, arg, scope)
    raise DeployError(f"the local deployer does not support {name}")


def _sub_variable(expression: str, local: Mapping[str, Any], scope: Scope) -> str:
    if expression.startswith("!"):
        return "${" + expression[1:] + "}"
    if expression in local:
        return str(local[expression])
    if "." in expression and expression.split(".", 1)[0] not in scope.parameters:
        logical_id, attribute = expression.split(".", 1)
        return str(scope.get_att(logical_id, attribute))
    return str(scope.ref(expression))


def _condition(name: str, scope: Scope) -> bool:
    if name not in scope.conditions:
        raise DeployError(f"unknown condition {name}")
    return scope.conditions[name]


def _condition_function(name: str, arg: Any, scope: Scope) -> bool:
    if name == "Fn::Equals":
        left, right = (resolve(item, scope) for item in arg)
        return str(left) == str(right)
    values = [bool(resolve(item, scope)) for item in arg]
    if name == "Fn::And":
        return all(values)
    if name == "Fn::Or":
        return any(values)
    return not values[0]


def evaluate_conditions(template: Template, scope: Scope) -> dict[str, bool]:
    """Each named condition's value (conditions may refer to each other, in any order)."""
    pending = dict(template.conditions)
    for _ in range(len(pending) + 1):
        for name, expression in list(pending.items()):
            try:
                scope.conditions[name] = bool(resolve(expression, scope))
            except DeployError:
                continue
            del pending[name]
    if pending:
        raise DeployError(f"conditions {', '.join(pending)} cannot be evaluated")
    return scope.conditions


# ---------------------------------------------------------------------------------- ordering
def references(value: Any) -> set[str]:
    """Names a value refers to (Ref, GetAtt, Sub variables): resources, parameters, pseudo params."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                found.add(arg.split(".", 1)[0] if isinstance(arg, str) else arg[0])
            elif key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for expression in _SUB_VARIABLE.findall(text):
                    if not expression.startswith("!") and expression not in variables:
                        found.add(expression.split(".", 1)[0])
                found |= references(variables)
            else:
                found |= references(arg)
    return found


def dependencies(template: Template, logical_id: str) -> set[str]:
    resource = template.resources[logical_id]
    depends_on = resource.get("DependsOn", [])
    names = set([depends_on] if isinstance(depends_on, str) else depends_on)
    names |= references(resource.get("Properties", {}))
    return names & set(template.resources)


def dependency_order(template: Template) -> list[str]:
    """Resources so that each comes after everything it refers to; ties keep template order."""
    order: list[str] = []
    done: set[str] = set()
    remaining = list(template.resources)
    while remaining:
        ready = [name for name in remaining if dependencies(template, name) <= done]
        if not ready:
            raise DeployError(f"the template's resources refer to each other in a cycle: {', '.join(remaining)}")
        for name in ready:
            order.append(name)
            done.add(name)
        remaining = [name for name in remaining if name not in done]
    return order

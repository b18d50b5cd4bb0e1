"""Run every benchmark, or the ones named: ``python -m bench [NAME ...] [--quick] [benchmark options]``.

Options after the names are passed to each benchmark (``python -m bench endpoint --help`` lists them).
"""

from __future__ import annotations

import sys

from bench import discover


def _usage(benchmarks: dict[str, object], broken: dict[str, str]) -> str:
    lines = ["usage: python -m bench [NAME ...] [--quick] [options of the benchmark]", "", "benchmarks:"]
    for name, module in benchmarks.items():
        lines.append(f"  {name:<10} {getattr(module, 'DESCRIPTION', '')}")
    for module_name, error in broken.items():
        lines.append(f"  (bench/{module_name}.py does not import: {error})")
    lines += ["", "With no NAME every benchmark runs. `python -m bench NAME --help` shows NAME's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names: list[str] = []
    while args and not args[0].startswith("-"):
        names.append(args.pop(0))
    benchmarks, broken = discover()
    if not names and args and args[0] in ("-h", "--help"):
        print(_usage(benchmarks, broken))
        return 0
    unknown = [name for name in names if name not in benchmarks]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(benchmarks)}", file=sys.stderr)
        for module_name, error in broken.items():
            print(f"bench/{module_name}.py does not import: {error}", file=sys.stderr)
        return 2
    status = 0
    for name in names or list(benchmarks):
        print(f"== bench {name} ==", flush=True)
        status = benchmarks[name].main(args) or status
    return status


if __name__ == "__main__":
    sys.exit(main())

"""moto's mutation counts in shared memory (localaws.moto.counters): what the moto host writes and a
reader such as the Athena engine reads, with the same stamps the host puts on its responses."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from localaws.moto.counters import SIZE, Counters, CountersView, read_scopes, slot
from localaws.moto.host import MutationCounts


def _two_buckets_in_different_slots() -> tuple[str, str]:
    names = [f"bucket-{i}" for i in range(10)]
    first = names[0]
    second = next(name for name in names[1:] if slot(f"s3:{name}") not in (slot(f"s3:{first}"), slot("s3")))
    return first, second


def test_a_reader_sees_the_hosts_stamps_and_every_later_mutation(tmp_path: Path) -> None:
    path = tmp_path / "mutations"
    counts = MutationCounts(path)
    view = CountersView(path)
    one, two = _two_buckets_in_different_slots()
    assert view.stamp("glue") == counts.stamp(("glue",)) == f"{counts.boot}:0"
    assert view.stamp(f"s3:{one}") == counts.stamp(("s3", f"s3:{one}")) == f"{counts.boot}:0:0"

    counts.bump(("glue",))
    assert view.stamp("glue") == counts.stamp(("glue",)) == f"{counts.boot}:1"
    before_two = view.stamp(f"s3:{two}")
    counts.bump(("s3", f"s3:{one}"))  # a write naming its bucket counts for that bucket only
    assert view.stamp(f"s3:{one}") == f"{counts.boot}:0:1"
    assert view.stamp(f"s3:{two}") == before_two
    counts.bump(("s3",))  # a write whose bucket the host could not tell changes every bucket's stamp
    assert view.stamp(f"s3:{one}") == f"{counts.boot}:1:1"
    assert view.stamp(f"s3:{two}") != before_two


def test_a_restarted_host_rewrites_the_file_a_reader_already_maps(tmp_path: Path) -> None:
    path = tmp_path / "mutations"
    first = Counters(path)
    view = CountersView(path)
    first.bump("glue")
    assert view.stamp("glue") == f"{first.boot}:1"
    second = Counters(path)
    assert second.boot != first.boot
    assert view.stamp("glue") == f"{second.boot}:0"  # the same mapping: a new boot id, counts from zero


def test_scopes_sharing_a_slot_see_each_others_mutations(tmp_path: Path) -> None:
    first_in_slot: dict[int, str] = {}
    for name in (f"s3:b{i}" for i in itertools.count()):
        if slot(name) in first_in_slot:
            pair = (first_in_slot[slot(name)], name)
            break
        first_in_slot[slot(name)] = name
    counters = Counters(tmp_path / "mutations")
    view = CountersView(tmp_path / "mutations")
    before = view.stamp(pair[1])
    counters.bump(pair[0])
    assert view.stamp(pair[1]) != before  # a change reported that did not happen: a reread, never a miss


def test_a_bucket_read_is_stamped_with_s3s_count_too() -> None:
    assert read_scopes("s3:archive") == ("s3", "s3:archive")
    assert read_scopes("glue") == ("glue",)


@pytest.mark.parametrize("content", [None, b"", b"WRMUTC01", bytes(SIZE)])
def test_no_stamp_without_a_whole_file_written_by_a_host(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "mutations"
    if content is not None:
        path.write_bytes(content)
    assert CountersView(path).stamp("glue") is None


def test_a_view_maps_a_file_that_appears_after_it_was_made(tmp_path: Path) -> None:
    path = tmp_path / "mutations"
    view = CountersView(path)
    assert view.stamp("glue") is None
    counters = Counters(path)
    assert view.stamp("glue") == f"{counters.boot}:0"


def test_the_file_is_private_to_its_owner(tmp_path: Path) -> None:
    Counters(tmp_path / "mutations")
    assert (tmp_path / "mutations").stat().st_mode & 0o077 == 0

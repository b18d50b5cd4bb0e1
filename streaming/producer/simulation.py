"""A seeded, deterministic fleet of unicorns moving through New York (pure: no I/O, no wall clock).

Each unicorn reports once per tick in the workshop's record format. Compared to the workshop's
simulator (one process per unicorn, fixed bearing, unbounded vitals):

- Start: within ~300 m of the workshop's start point (40.749167, -73.985184, Midtown Manhattan).
- Movement: 29-31 m per tick, the workshop's formula ``lat += d*sin(b)/110540``,
  ``lon += d*cos(b)/(111320*cos(lat))``; the bearing drifts smoothly (a damped random turn rate), and
  unicorns bounce off the edges of New York City's bounding box, so they roam the city for hours.
- Vitals: HealthPoints and MagicPoints start near 150 and move -1/0/+1 with probability 25/50/25 % when
  at their set point; away from it the odds tilt back towards it (a mean-reverting random walk), and
  now and then (about once an hour per vital) a "fatigue" (health) or "drain" (magic) episode lowers
  the set point for a few minutes, so vitals dip below 100 — the workshop's "low vitals" alert — and
  recover. Hard bounds [0, 200].
- Time: StatusTime comes from the clock the caller passes to ``Fleet.tick`` (epoch milliseconds). Each
  unicorn reads its sensor at its own fixed phase within the tick period, so records are not all
  stamped with the same millisecond; the stamp is never after the clock passed in.

Every unicorn draws from its own ``random.Random`` seeded with ``f"{seed}/{name}"``: the same seed and
clock give the same records, and a unicorn's track does not depend on the size of the fleet.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import NamedTuple

START_LAT = 40.749167
START_LON = -73.985184
# New York City's bounding box (the five boroughs).
MIN_LAT, MAX_LAT = 40.4774, 40.9176
MIN_LON, MAX_LON = -74.2591, -73.7004
MIN_SPEED, MAX_SPEED = 29.0, 31.0
VITALS_START = 150
VITALS_MIN, VITALS_MAX = 0, 200
EPISODE_CHANCE = 1 / 3600  # per unicorn, per vital, per tick: about one episode an hour
START_SPREAD_M = 300.0

UNICORN_NAMES = (
    "Shadowfax", "Rocinante", "Bucephalus", "Pegasus", "Sparkles", "Stardust", "Buttercup", "Twilight",
    "Moonbeam", "Glimmer", "Celestia", "Nimbus", "Marshmallow", "Thunderhoof", "Willow", "Aurora",
    "Comet", "Pixie", "Zephyr", "Élan", "Saffron", "Juniper", "Nebula", "Opal",
)  # fmt: skip


def unicorn_names(count: int) -> list[str]:
    """The fixed list first, then the same names numbered: ``Shadowfax-2``, ``Rocinante-2``, …"""
    base = len(UNICORN_NAMES)
    return [UNICORN_NAMES[i] if i < base else f"{UNICORN_NAMES[i % base]}-{i // base + 1}" for i in range(count)]


@dataclass
class Vital:
    value: int
    set_point: int = VITALS_START
    episode_left: int = 0

    def step(self, rng: random.Random) -> int:
        if self.episode_left > 0:
            self.episode_left -= 1
            if self.episode_left == 0:
                self.set_point = VITALS_START
        elif rng.random() < EPISODE_CHANCE:
            self.set_point = rng.randint(55, 90)
            self.episode_left = rng.randint(90, 360)
        tilt = max(-0.2, min(0.2, (self.value - self.set_point) / 100.0))
        u = rng.random()
        if u < 0.25 + tilt:
            self.value -= 1
        elif u >= 0.75 + tilt:
            self.value += 1
        self.value = max(VITALS_MIN, min(VITALS_MAX, self.value))
        return self.value


@dataclass
class Unicorn:
    name: str
    rng: random.Random
    lat: float
    lon: float
    bearing: float
    turn: float
    health: Vital
    magic: Vital
    phase: float  # fraction of the tick period before the clock at which the sensor is read
    name_json: str = field(init=False)

    def __post_init__(self) -> None:
        self.name_json = json.dumps(self.name, ensure_ascii=False)

    @classmethod
    def spawn(cls, name: str, seed: int | str) -> Unicorn:
        rng = random.Random(f"{seed}/{name}")
        r = START_SPREAD_M * math.sqrt(rng.random())
        a = rng.uniform(0.0, 2 * math.pi)
        lat = START_LAT + r * math.sin(a) / 110540.0
        lon = START_LON + r * math.cos(a) / (111320.0 * math.cos(math.radians(START_LAT)))
        return cls(
            name=name,
            rng=rng,
            lat=lat,
            lon=lon,
            bearing=rng.uniform(0.0, 2 * math.pi),
            turn=0.0,
            health=Vital(VITALS_START + rng.randint(-5, 5)),
            magic=Vital(VITALS_START + rng.randint(-5, 5)),
            phase=rng.random(),
        )

    def move(self) -> float:
        rng = self.rng
        self.turn = 0.97 * self.turn + rng.gauss(0.0, 0.01)
        self.bearing = (self.bearing + self.turn) % (2 * math.pi)
        d = rng.uniform(MIN_SPEED, MAX_SPEED)
        self.lat += d * math.sin(self.bearing) / 110540.0
        self.lon += d * math.cos(self.bearing) / (111320.0 * math.cos(math.radians(self.lat)))
        if self.lat > MAX_LAT or self.lat < MIN_LAT:
            self.lat = 2 * (MAX_LAT if self.lat > MAX_LAT else MIN_LAT) - self.lat
            self.bearing = (-self.bearing) % (2 * math.pi)
        if self.lon > MAX_LON or self.lon < MIN_LON:
            self.lon = 2 * (MAX_LON if self.lon > MAX_LON else MIN_LON) - self.lon
            self.bearing = (math.pi - self.bearing) % (2 * math.pi)
        return d


class Reading(NamedTuple):
    """One sensor record; ``as_dict()`` is the contract's JSON object, ``encode()`` its bytes."""

    name: str
    status_time: str
    latitude: float
    longitude: float
    distance: float
    health: int
    magic: int
    name_json: str

    def as_dict(self) -> dict[str, object]:
        return {
            "Name": self.name,
            "StatusTime": self.status_time,
            "Latitude": self.latitude,
            "Longitude": self.longitude,
            "Distance": self.distance,
            "HealthPoints": self.health,
            "MagicPoints": self.magic,
        }

    def encode(self) -> bytes:
        # Hand-built JSON: ~4x cheaper than json.dumps, same document (floats via repr, name escaped once).
        return (
            f'{{"Name":{self.name_json},"StatusTime":"{self.status_time}","Latitude":{self.latitude!r},'
            f'"Longitude":{self.longitude!r},"Distance":{self.distance!r},"HealthPoints":{self.health},'
            f'"MagicPoints":{self.magic}}}'
        ).encode()


class Fleet:
    """``size`` unicorns; ``tick(clock_ms)`` advances every unicorn by one second of movement."""

    def __init__(self, size: int, seed: int | str) -> None:
        if size < 1:
            raise ValueError("a fleet needs at least one unicorn")
        self.seed = seed
        self.unicorns = [Unicorn.spawn(name, seed) for name in unicorn_names(size)]
        self._prefixes: dict[int, str] = {}

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.unicorns]

    def tick(self, clock_ms: int, period_ms: int = 1000, limit: int | None = None) -> list[Reading]:
        """One reading per unicorn (the first ``limit`` only, if given) stamped within the period."""
        readings = []
        for unicorn in self.unicorns[:limit] if limit is not None else self.unicorns:
            distance = unicorn.move()
            health = unicorn.health.step(unicorn.rng)
            magic = unicorn.magic.step(unicorn.rng)
            stamp = clock_ms - int(unicorn.phase * period_ms)
            readings.append(
                Reading(
                    unicorn.name,
                    self._format(stamp),
                    round(unicorn.lat, 6),
                    round(unicorn.lon, 6),
                    round(distance, 2),
                    health,
                    magic,
                    unicorn.name_json,
                )
            )
        return readings

    def _format(self, ms: int) -> str:
        second, millis = divmod(ms, 1000)
        prefix = self._prefixes.get(second)
        if prefix is None:
            if len(self._prefixes) > 8:
                self._prefixes.clear()
            prefix = self._prefixes[second] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        return f"{prefix}.{millis:03d}"


def simulate(size: int, seed: int | str, start_ms: int, ticks: int, period_ms: int = 1000) -> list[Reading]:
    """``ticks`` ticks of a fresh fleet, the clock starting at ``start_ms`` and advancing by the period."""
    fleet = Fleet(size, seed)
    out: list[Reading] = []
    for k in range(ticks):
        out.extend(fleet.tick(start_ms + k * period_ms, period_ms))
    return out

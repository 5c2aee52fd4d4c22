"""Seeding municipalities from readable TOML files (the demo uses the ones in this folder; the
format is docs/seeds.md).

A site either has a plain `seats` count, or a staff roster (`[[sites.staff]]`) from which the
capacity and the services of each time are derived; `video_from` marks a library served by a
specialist of that central site; `acute` holds seats back for acute cases until a time of day.
A file is checked whole before anything is applied (`SeedError` lists every problem).
"""

from services.booking.seed.apply import apply_seed
from services.booking.seed.load import MunicipalitySeed, load_seed, parse_seed
from services.booking.seed.problems import Problem, SeedError

DEMO_MUNICIPALITIES = ("slagelse", "herning", "hvidovre")

__all__ = [
    "DEMO_MUNICIPALITIES",
    "MunicipalitySeed",
    "Problem",
    "SeedError",
    "apply_seed",
    "load_seed",
    "parse_seed",
]

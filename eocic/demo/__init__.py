"""The embedded demo economy: a seeded synthetic economy written as Eurostat raw files."""

from eocic.demo.economy import DemoEconomy, simulate_demo_economy
from eocic.demo.writer import generate_demo_economy, write_demo_economy

__all__ = ["DemoEconomy", "generate_demo_economy", "simulate_demo_economy", "write_demo_economy"]

"""The embedded demo economy: a seeded synthetic economy written as Eurostat raw files."""

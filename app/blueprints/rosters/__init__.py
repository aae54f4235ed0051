"""Duty rosters (值班备勤): who of a unit is on duty when, and where an emergency unit has nobody."""

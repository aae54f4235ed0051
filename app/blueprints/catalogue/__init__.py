"""The dispatch catalogue (派单目录): which categories of call go to which units, by which route."""

"""Linkage units (联动单位). The catalogue issue extends this domain."""

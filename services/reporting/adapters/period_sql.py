"""The filter every period report shares: one municipality ($1) and the Copenhagen dates of a
timestamp column from $2 to $3, both included (null = open)."""

from __future__ import annotations


def in_municipality_and_period(column: str) -> str:
    """`WHERE …` for rows of municipality $1 whose `column`, as a Copenhagen date, lies in
    [$2, $3]; `column` is the name of one of the report's own columns, never input."""
    local_date = f"({column} AT TIME ZONE 'Europe/Copenhagen')::date"
    return f"""
WHERE municipality = $1
  AND ($2::date IS NULL OR {local_date} >= $2::date)
  AND ($3::date IS NULL OR {local_date} <= $3::date)
"""

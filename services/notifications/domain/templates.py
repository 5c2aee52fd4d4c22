"""The Danish wording of every SMS, kept apart from the code that fills it in."""

from __future__ import annotations

from string import Template

CONFIRMATION = Template(
    "Hej $citizen_name. Din tid til $service_name hos $site_name "
    "er bekræftet: $when.$documents_line Se eller ændr din tid: $manage_url"
)

REMINDER = Template(
    "Hej $citizen_name. Husk din tid til $service_name hos $site_name "
    "$when.$documents_line Se eller ændr din tid: $manage_url"
)

RESCHEDULED = Template(
    "Hej $citizen_name. Din tid til $service_name hos $site_name er flyttet til $when. "
    "Se eller ændr din tid: $manage_url"
)

CANCELLED_BY_STAFF = Template(
    "Hej $citizen_name. Borgerservice har desværre aflyst din tid til $service_name "
    "hos $site_name $when. Begrundelse: $reason. Book en ny tid: $booking_url"
)

DOCUMENTS_LINE = Template(" Husk at medbringe: $documents.")

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")

MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip

# "mandag den 3. marts 2025 kl. 09.30": the Danish way of writing a date and a time.
WHEN = Template("$weekday den $day. $month $year kl. $hour.$minute")

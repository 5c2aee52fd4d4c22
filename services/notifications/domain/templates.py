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

BULK_CANCELLED = Template(
    "Hej $citizen_name. Borgerservice må desværre aflyse flere tider hos $site_name, "
    "også din tid til $service_name $when. Begrundelse: $reason. Vi beklager. "
    "Book en ny tid: $booking_url"
)

WAITLIST_OFFER = Template(
    "Hej $citizen_name. Der er blevet en tidligere tid ledig til $service_name hos "
    "$site_name: $offered_when. Vi holder den til dig indtil $deadline. "
    "Tag den nye tid her: $manage_url (ellers beholder du din tid $when)"
)

SURVEY_INVITATION = Template(
    "Hej $citizen_name. Tak for dit besøg hos $site_name. Vil du hjælpe os med at blive "
    "bedre? Svar på tre korte spørgsmål inden $deadline: $survey_url"
)

DOCUMENTS_LINE = Template(" Husk at medbringe: $documents.")

WEEKDAYS = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")

MONTHS = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip

# "mandag den 3. marts 2025 kl. 09.30": the Danish way of writing a date and a time.
WHEN = Template("$weekday den $day. $month $year kl. $hour.$minute")

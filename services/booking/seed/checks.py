"""What a seed file must mean, beyond each field's type and range: ids that exist, rosters that
can serve what a site offers, hours that divide into whole times.

What is an error and what a warning:
- An error is a file that cannot mean what it says: an unknown service or site, a competence
  that no service needs (always a typo: it can never make a difference), a service that would
  get no times anywhere, a site that lists a service its roster cannot serve, hours that do not
  divide into whole times. Nothing of such a file is applied.
- A warning is a file that is consistent but may surprise: a site offering every service of
  the catalog (no `services` list) where nobody on its roster has a competence some service
  needs, so that service has no times at this site. A small office without an officiant for
  weddings is normal; the service still has times at other sites.
"""

from __future__ import annotations

from collections import Counter

from services.booking.seed.file_model import MunicipalityFile, ServiceEntry, SiteEntry, spans_of
from services.booking.seed.problems import Located, Problem, nearest


class Checks:
    def __init__(
        self,
        document: MunicipalityFile,
        where: Located,
        services: list[ServiceEntry],
        services_where: Located,
    ) -> None:
        self.document, self.where = document, where
        self.services, self.services_where = services, services_where
        self.by_id = {s.id: s for s in services}
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def run(self) -> Checks:
        self._unique_ids()
        self._needed = {s.competence for s in self.services if s.competence is not None}
        site_ids = {site.id for site in self.document.sites}
        offered: set[str] = set()
        for i, site in enumerate(self.document.sites):
            self._site(i, site, site_ids)
            offered |= self._offered_at(i, site)
        for i, service in enumerate(self.services):
            if service.id not in offered:
                self.errors.append(
                    self.services_where.at(
                        ("services", i, "competence" if service.competence else "id"),
                        f"{service.id} would get no times at any site: {self._why_none(service)}",
                    )
                )
        return self

    def _unique_ids(self) -> None:
        for kind, ids, where in (
            ("site", [site.id for site in self.document.sites], self.where),
            ("service", [service.id for service in self.services], self.services_where),
        ):
            seen = Counter(ids)
            for i, given in enumerate(ids):
                if seen[given] > 1:
                    self.errors.append(
                        where.at((f"{kind}s", i, "id"), f"{kind} {given!r} is given twice")
                    )

    def _site(self, i: int, site: SiteEntry, site_ids: set[str]) -> None:
        at = ("sites", i)
        if site.video_from is not None and (
            site.video_from not in site_ids or site.video_from == site.id
        ):
            known = nearest(site.video_from, site_ids - {site.id})
            self._error((*at, "video_from"), f"no other site {site.video_from!r}{known}")
        for j, service in enumerate(site.services or ()):
            if service not in self.by_id:
                known = nearest(service, self.by_id)
                self._error((*at, "services", j), f"unknown service {service!r}{known}")
        if site.staff is None and site.seats is None:
            self._error(at, "give `seats` (a count per time) or a roster ([[sites.staff]])")
        if site.staff is not None and site.seats is not None:
            self._error(
                (*at, "seats"),
                "a site with a roster has as many seats as staff on duty: "
                "remove `seats` or the roster",
            )
        if site.acute is not None and site.staff is None:
            self._error(
                (*at, "acute"),
                "acute seats are held back from a roster's staff on duty; "
                "a site with plain `seats` has none to hold back",
            )
        for day, text in site.hours.given().items():
            for opens, closes in spans_of(text):
                minutes = (closes.hour - opens.hour) * 60 + closes.minute - opens.minute
                if minutes % site.slot_minutes:
                    self._error(
                        (*at, "hours", day),
                        f"{opens:%H:%M}-{closes:%H:%M} is {minutes} minutes, not a whole "
                        f"number of {site.slot_minutes}-minute times (slot_minutes)",
                    )
        self._roster(i, site)

    def _roster(self, i: int, site: SiteEntry) -> None:
        names = Counter(member.name for member in site.staff or ())
        for k, member in enumerate(site.staff or ()):
            at = ("sites", i, "staff", k)
            if names[member.name] > 1:
                self._error((*at, "name"), f"{member.name!r} is on this roster twice")
            for j, competence in enumerate(member.competences):
                if competence not in self._needed:
                    self._error(
                        (*at, "competences", j),
                        f"unknown competence {competence!r}: no service needs it"
                        f"{nearest(competence, self._needed)} (the services need: "
                        f"{', '.join(sorted(self._needed))})",
                    )

    def _offered_at(self, i: int, site: SiteEntry) -> set[str]:
        """The services that get times at this site, telling why a wanted one gets none."""
        listed = site.services is not None
        wanted = [
            (("sites", i, "services", j) if listed else ("sites", i), service_id)
            for j, service_id in enumerate(site.services or list(self.by_id))
            if service_id in self.by_id
        ]
        if site.staff is None:
            return {service_id for _, service_id in wanted}
        competences = {c for member in site.staff for c in member.competences}
        offered = set()
        for at, service_id in wanted:
            service = self.by_id[service_id]
            if site.video_from is not None and not service.video:
                if listed:
                    self._error(
                        at,
                        f"{service_id} may not be served by video (video = false), and this "
                        f"site is served by video from {site.video_from}",
                    )
                continue
            if service.competence is not None and service.competence not in competences:
                problem = (
                    f"nobody on the roster has {service.competence!r}, which {service_id} "
                    "needs: it gets no times here"
                )
                (self.errors if listed else self.warnings).append(self.where.at(at, problem))
                continue
            offered.add(service_id)
        return offered

    def _why_none(self, service: ServiceEntry) -> str:
        rostered = {c for s in self.document.sites for m in s.staff or () for c in m.competences}
        if service.competence is not None and service.competence not in rostered:
            return (
                f"nobody on any roster has its competence {service.competence!r}"
                + nearest(service.competence, rostered)
            )
        return "no site offers it (see the sites' `services` and the warnings)"

    def _error(self, path: tuple[str | int, ...], message: str) -> None:
        self.errors.append(self.where.at(path, message))

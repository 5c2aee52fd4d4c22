"""The citizen's manage links: revoking them all at once."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import event

from services.booking.domain.booking_state import BookingState


class ManageLinks(BookingState):
    """Links carry a generation; a revocation makes every earlier one stop working."""

    def revoke_manage_tokens(self, by: str, at: datetime) -> int:
        """Every manage link issued so far stops working; returns the new generation, which
        the links issued from now on carry."""
        self._manage_tokens_revoked(
            **self._facts(), generation=self.manage_generation + 1, by=by, revoked_at=at
        )
        return self.manage_generation

    @event("ManageTokensRevoked")
    def _manage_tokens_revoked(
        self,
        municipality: str,
        site: str,
        service: str,
        starts_at: datetime,
        generation: int,
        by: str,
        revoked_at: datetime,
    ) -> None:
        self.manage_generation = generation

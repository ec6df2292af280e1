"""Signals the members app sends so that apps above it (shifts) can react without members
importing them (dependencies point checkout -> shifts -> members)."""
from django.dispatch import Signal

# Sent inside the transaction after a member's membership or working terms (shift type, work
# start date) changed: member, today.
membership_changed = Signal()
# Sent inside the transaction when a member leaves the coop: member, today, by.
member_left = Signal()
# Sent inside the transaction after a member's qualifications changed (granted, revoked,
# imported): member, today. The shift app re-seats the member's coming registrations.
qualifications_changed = Signal()

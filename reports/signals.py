"""A route for history rows that an admin request writes without one."""

from django.dispatch import receiver
from django.urls import reverse
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from thrift.services import ROUTE_MAX_LENGTH

from .audit import ADMIN_FORM


@receiver(pre_create_historical_record)
def fill_admin_route(sender, history_instance, **kwargs):
    """Name the admin route of a save that did not say its own.

    The admin's forms and our services stamp their route; this covers the
    rest of the admin (a password change, a built-in action), so that no
    admin change is left without one.
    """
    if history_instance.history_change_reason:
        return
    request = getattr(HistoricalRecords.context, "request", None)
    if request is None or not request.path.startswith(reverse("admin:index")):
        return
    action = request.POST.get("action") if request.method == "POST" else None
    route = f"admin action: {action}" if action else ADMIN_FORM
    history_instance.history_change_reason = route[:ROUTE_MAX_LENGTH]

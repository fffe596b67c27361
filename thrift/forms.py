"""Forms of the admin's intermediate pages: what staff type before an
action calls a service. They convert and check input only; the rules stay
in `thrift.services`."""

from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AdminDateWidget

from . import services
from .exceptions import ThriftError
from .models import Cycle, Membership, PaymentMethod, lagos_today


class StyledForm(forms.Form):
    """Inputs styled like the rest of the (Bootstrap) admin."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if widget.is_hidden or isinstance(widget, forms.RadioSelect):
                continue
            css = widget.attrs.get("class", "")
            widget.attrs["class"] = f"{css} form-control".strip()


class ActionForm(StyledForm):
    """Carries the changelist selection and action name through the page."""

    action = forms.CharField(widget=forms.HiddenInput)
    select_across = forms.BooleanField(
        required=False, initial=False, widget=forms.HiddenInput
    )
    confirm = forms.CharField(widget=forms.HiddenInput, initial="yes")


class MarkPaidForm(ActionForm):
    paid_on = forms.DateField(
        label="paid on",
        initial=lagos_today,
        widget=AdminDateWidget,
        help_text="The day the money came in (Africa/Lagos).",
    )
    method = forms.ChoiceField(choices=PaymentMethod.choices, initial="cash")
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="Teller, transfer or receipt number, if any.",
    )
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="For a part payment only: the sum paid on each selected "
        "contribution. Leave empty to pay each balance in full.",
    )


class StartCycleForm(ActionForm):
    start_date = forms.DateField(
        label="first due date",
        required=False,
        widget=AdminDateWidget,
        help_text="Due date of round 1. Leave empty to use each group's next "
        "due date, shown above.",
    )
    order_method = forms.ChoiceField(
        label="payout order",
        choices=Cycle.OrderMethod.choices,
        initial=Cycle.OrderMethod.JOIN_ORDER,
        widget=forms.RadioSelect,
        help_text="How places without a position set by hand are ordered. A "
        "random draw keeps its seed with the cycle so it can be replayed.",
    )


class RecordPayoutForm(StyledForm):
    paid_on = forms.DateField(
        label="paid on", initial=lagos_today, widget=AdminDateWidget
    )
    reference = forms.CharField(
        max_length=100,
        required=False,
        help_text="Transfer reference or receipt number.",
    )
    override_reason = forms.CharField(
        label="override reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Contributions are outstanding: say why the pot is paid out "
        "anyway. It is kept with the payout.",
    )

    def __init__(self, *args, needs_override: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.needs_override = needs_override
        if needs_override:
            self.fields["override_reason"].required = True
        else:
            del self.fields["override_reason"]


class SwapPositionsForm(ActionForm):
    positions = forms.CharField(widget=forms.HiddenInput)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the payout order changes; kept with the swap.",
    )


class LeaveGroupForm(ActionForm):
    pass


class MembershipForm(forms.ModelForm):
    """A place added on its own page: refused where `join_group` would."""

    class Meta:
        model = Membership
        fields = ("group", "member", "position", "joined_at")

    def clean(self):
        cleaned = super().clean()
        group, member = cleaned.get("group"), cleaned.get("member")
        if self.instance.pk is None and group and member:
            try:
                services.check_join(group, member, cleaned.get("position"))
            except ThriftError as refusal:
                raise forms.ValidationError(str(refusal)) from None
        return cleaned


class PlacesFormSet(forms.BaseInlineFormSet):
    """The places on a group's page: new ones are held to `join_group`'s
    rules, including two new places for one member in the same save."""

    def clean(self):
        super().clean()
        group = self.instance
        seen = set()
        for form in self.forms:
            if form.instance.pk and form.cleaned_data:
                self._check_existing(form)
                continue
            if not form.has_changed() or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            member = form.cleaned_data.get("member")
            if member is None:
                continue
            try:
                services.check_join(group, member, form.cleaned_data.get("position"))
            except ThriftError as refusal:
                form.add_error("member", str(refusal))
                continue
            if member.pk in seen and not group.allow_multiple_places:
                form.add_error(
                    "member",
                    f"{member} is listed twice, and this group does not allow "
                    "two hands.",
                )
            seen.add(member.pk)

    @staticmethod
    def _check_existing(form) -> None:
        # A place keeps its member and its money records: another person
        # takes a new place. A place that has left keeps no position.
        if "member" in form.changed_data:
            form.add_error(
                "member",
                "A place stays with its member. End it with Leave group and add "
                "a new place for the new member.",
            )
        if form.instance.left_at and "position" in form.changed_data:
            form.add_error(
                "position", "This member has left; the place has no position."
            )

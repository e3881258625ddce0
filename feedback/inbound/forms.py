import uuid

from django import forms
from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _


class ReplyForm(forms.Form):
    """A customer's reply written on the reply link page."""

    body = forms.CharField(label=_("Your reply"), strip=True)
    # Made when the page is shown: submitting the same page twice records one reply.
    nonce = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit = settings.INBOUND_MAX_REPLY_CHARS
        self.fields["body"].max_length = limit
        self.fields["body"].validators.append(MaxLengthValidator(limit))
        self.fields["body"].error_messages["max_length"] = _(
            "Keep your reply to %(limit_value)d characters (it has %(show_value)d)."
        )
        self.fields["body"].error_messages["required"] = _("Write your reply first.")

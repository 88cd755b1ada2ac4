"""The citizen app's login form: the same three fields as the API's password grant."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Brugernavn"), max_length=150)
    password = forms.CharField(label=_("Adgangskode"), max_length=200, widget=forms.PasswordInput)
    totp_code = forms.CharField(
        label=_("Engangskode"), max_length=10, help_text=_("De 6 cifre fra din kodeviser eller app.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        autocomplete = {"username": "username", "password": "current-password", "totp_code": "one-time-code"}
        for name, field in self.fields.items():
            field.widget.attrs.update({"class": "form-input", "autocomplete": autocomplete[name]})
        self.fields["totp_code"].widget.attrs.update({"inputmode": "numeric", "aria-describedby": "totp-hint"})

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm

from accounts.models import User


class SignupForm(BaseUserCreationForm):
    """E-mail, name and password, checked by the configured password validators."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]
        help_texts = {"email": "You log in with this address."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_name"].required = True
        self.fields["email"].widget.attrs.update({"autocomplete": "email", "autofocus": True})

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this e-mail address already exists. "
                "Log in, or reset your password if you forgot it."
            )
        return email

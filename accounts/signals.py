from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver


@receiver(user_logged_out)
def _end_all_sessions(sender, request, user, **kwargs):
    """Logging out ends the user's sessions everywhere: a signed session cookie cannot
    be deleted server-side, so a copy of it must stop working too."""
    if user is not None and user.is_authenticated:
        user.end_all_sessions()

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import SignupForm
from courses.staff_services import accept_invitations


def signup(request):
    if request.user.is_authenticated:
        return redirect("courses:dashboard")
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        accept_invitations(user=user)  # pending course invitations for this address (issue 5)
        login(request, user, backend="accounts.backends.AccountBackend")
        messages.success(request, f"Welcome, {user.display_name}. Your account is ready.")
        return redirect(next_url or "courses:dashboard")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})

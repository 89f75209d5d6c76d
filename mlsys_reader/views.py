from django.http import HttpResponse, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness probe for load balancers and the benchmarks' minimal baseline: goes
    through the whole middleware stack, touches neither the session nor the database."""
    return HttpResponse("ok", content_type="text/plain")


def favicon(request):
    """Browsers ask for /favicon.ico on every page that names none (the admin's)."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))

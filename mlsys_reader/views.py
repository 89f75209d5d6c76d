from django.http import HttpResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness probe for load balancers and the benchmarks' minimal baseline: goes
    through the whole middleware stack, touches neither the session nor the database."""
    return HttpResponse("ok", content_type="text/plain")
